// #/tickets/<id>/date — the ticket's sessions by date (GET .../slots), as
// the API decided their states; 下一步 once an open session is chosen.
import {get} from '../api.js';
import {h, uid} from '../dom.js';
import {t} from '../i18n.js';
import {
  dayText, opensText, slotStateText, timeText, weekdayText,
} from '../format.js';
import {go} from '../router.js';
import {draftOf, newDraft, promoQuery, saveDraft} from '../store.js';
import {actionBar} from '../ui.js';

// A date is open when any session is; else not yet open (the earliest
// opening) when any is; else sold out when any is; else closed.
function byDate(slots) {
  const days = new Map();
  for (const slot of slots) {
    if (!days.has(slot.date)) {
      days.set(slot.date, {date: slot.date, slots: []});
    }
    days.get(slot.date).slots.push(slot);
  }
  for (const day of days.values()) {
    const states = new Set(day.slots.map((slot) => slot.state));
    day.state = ['open', 'not_yet_open', 'sold_out'].find(
      (state) => states.has(state)) || 'closed';
    const waiting = day.slots.filter((slot) => slot.state === 'not_yet_open'
      && slot.opens_at).map((slot) => slot.opens_at).sort();
    day.opens_at = waiting[0] || null;
  }
  return [...days.values()];
}

// The API computes sessions at most once a second per server process: a
// session it has just refused to book shows as the refusal said, not as
// a slightly older answer of sessions does.
const REFUSAL_MS = 5000;

function withRefusal(current, slots) {
  const refused = current && current.refused;
  if (!refused || Date.now() - refused.at > REFUSAL_MS) {
    return slots;
  }
  return slots.map((slot) => (
    slot.slot_id === refused.slot && slot.state === 'open'
      ? {...slot, state: refused.state,
        available: refused.state === 'sold_out' ? 0 : slot.available}
      : slot));
}

function chipState(day) {
  return slotStateText({state: day.state, opens_at: day.opens_at});
}

export async function dateScreen(ctx) {
  const id = Number(ctx.params[0]);
  const query = promoQuery(id);
  const [ticket, answer] = await Promise.all([
    get(`/tickets/${id}${query}`), get(`/tickets/${id}/slots${query}`)]);
  const current = draftOf(id) || newDraft(ticket);
  const days = byDate(withRefusal(current, answer.slots));
  const chosen = current.slot;
  let selected = days.find((day) => chosen && day.date === chosen.date)
    || days.find((day) => day.state === 'open') || null;
  let slotId = null;
  if (chosen && selected) {
    const again = selected.slots.find((slot) => slot.slot_id === chosen.id);
    slotId = again && again.state === 'open' ? again.slot_id : null;
  }

  const next = h('button', {
    type: 'button', class: 'button', disabled: slotId === null,
    onclick: () => {
      const slot = selected.slots.find((item) => item.slot_id === slotId);
      current.slot = {
        id: slot.slot_id, date: slot.date, session: slot.session,
        checkin_start: slot.checkin_start, checkin_end: slot.checkin_end};
      saveDraft(current);
      go(`#/tickets/${id}/visitors`);
    }}, t('next'));
  // Stays in the page so a screen reader hears its changes.
  const opens = h('p', {role: 'status', class: 'opens'});
  const sessions = h('div', {class: 'sessions'});

  const chips = days.map((day) => {
    const state = chipState(day);
    return h('button', {
      type: 'button', class: `chip ${day.state}`,
      'aria-pressed': String(day === selected),
      'aria-label': `${dayText(day.date)} ${weekdayText(day.date)} ${state}`,
      onclick: (event) => {
        selected = day;
        slotId = null;
        for (const chip of event.currentTarget.parentNode.children) {
          chip.setAttribute('aria-pressed', String(chip === event.currentTarget));
        }
        showSessions();
      }},
    h('span', {class: 'chip-day'}, dayText(day.date)),
    h('span', {class: 'chip-week'}, weekdayText(day.date)),
    h('span', {class: 'chip-state'}, state));
  });

  function option(slot) {
    const inputId = uid('slot');
    const open = slot.state === 'open';
    return h('div', {class: `option ${slot.state}`},
      h('input', {
        type: 'radio', name: 'slot', id: inputId, value: slot.slot_id,
        disabled: !open, checked: slot.slot_id === slotId,
        onchange: () => {
          slotId = slot.slot_id;
          next.disabled = false;
        }}),
      h('label', {for: inputId},
        h('span', {class: 'session-name'}, slot.session), ' ',
        h('span', {class: 'session-time'},
          `${timeText(slot.checkin_start)}-${timeText(slot.checkin_end)}`),
        ' ',
        h('span', {class: 'remaining'}, t('remaining', {n: slot.available})),
        open ? null : ' ',
        open ? null : h('span', {class: 'session-state'},
          slotStateText(slot))));
  }

  function showSessions() {
    next.disabled = slotId === null;
    opens.textContent = '';
    if (!selected) {
      sessions.replaceChildren();
      return;
    }
    if (selected.state === 'not_yet_open') {
      // The whole date opens later: say when, in place of its sessions.
      opens.textContent = selected.opens_at ? opensText(selected.opens_at)
        : t('stateClosed');
      sessions.replaceChildren();
      return;
    }
    sessions.replaceChildren(h('fieldset', {class: 'card session-list'},
      h('legend', {}, t('sessions')),
      selected.slots.map(option)));
  }
  showSessions();

  const datesId = uid('dates');
  return h('div', {class: 'date-screen'},
    h('h1', {class: 'page-title'}, t('chooseDate')),
    h('p', {class: 'subtitle'}, ticket.name),
    days.length ? [
      h('section', {class: 'card', 'aria-labelledby': datesId},
        h('h2', {id: datesId}, t('dates')),
        h('div', {class: 'chips'}, chips)),
      opens,
      sessions,
    ] : h('p', {class: 'empty-text'}, t('noSlots')),
    actionBar(next));
}
