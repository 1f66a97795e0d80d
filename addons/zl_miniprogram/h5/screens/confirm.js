// #/confirm — the draft as it will be sent, and 提交预约.
// The idempotency key is made once, when this screen is first built for
// the draft, and kept with it: a second tap, a reload or a retry after a
// lost answer sends the same key, so the API never books twice.
import {
  LoginPending, LoginUnavailable, call, randomKey,
} from '../api.js';
import {h} from '../dom.js';
import {
  amount, cents, centsText, dayText, weekdayText, windowText,
} from '../format.js';
import {t} from '../i18n.js';
import {maskId, normalizeId} from '../idcard.js';
import {go, replace} from '../router.js';
import {clearDraft, draft, promoFor, saveDraft} from '../store.js';
import {actionBar, alertBox, section} from '../ui.js';

function quantity(current) {
  return current.ticket.kind === 'group' ? Number(current.group.size)
    : current.companions.length + current.visitors.length;
}

function body(current) {
  const request = {
    ticket_id: current.ticket.id,
    slot_id: current.slot.id,
    idempotency_key: current.key,
  };
  if (current.ticket.kind === 'group') {
    request.group = {
      name: current.group.name, leader: current.group.leader,
      size: Number(current.group.size)};
    request.visitors = [];
  } else {
    request.visitors = [
      ...current.companions.map((item) => ({companion_id: item.id})),
      ...current.visitors.map((item) => ({
        name: item.name, id_type: item.id_type, id_number: item.id_number,
        phone: item.phone || null, birth_date: item.birth_date || null})),
    ];
  }
  const {name, phone} = current.contact;
  if (name || phone) {
    request.contact = {name: name || null, phone: phone || null};
  }
  const scene = promoFor(current.ticket.id);
  if (scene) {
    request.promo = scene;
  }
  return request;
}

// Visitors ticked 保存为常用游客, once booked; a refusal (already saved,
// 20 at most) changes nothing for the booking.
async function saveCompanions(current) {
  const wanted = current.visitors.filter((item) => item.save);
  await Promise.allSettled(wanted.map((item) => call('/companions', {
    method: 'POST', auth: true, body: {
      name: item.name, id_type: item.id_type, id_number: item.id_number,
      phone: item.phone || null, birth_date: item.birth_date || null}})));
}

function row(label, ...value) {
  return [h('dt', {}, label), h('dd', {}, ...value)];
}

function people(current) {
  if (current.ticket.kind === 'group') {
    const {name, leader, size} = current.group;
    return section(t('group'), h('p', {},
      t('groupSummary', {name, leader, size})));
  }
  const items = [
    ...current.companions.map((item) => [item.name, item.id_number]),
    ...current.visitors.map((item) => [
      item.name, maskId(normalizeId(item.id_number))]),
  ];
  return section(t('visitors'), h('ul', {class: 'people'},
    items.map(([name, masked]) => h('li', {},
      h('span', {class: 'person-name'}, name), ' ',
      h('span', {class: 'masked'}, masked)))));
}

export async function confirmScreen() {
  const current = draft();
  if (!current || !current.slot) {
    replace(current ? `#/tickets/${current.ticket.id}/date` : '#/');
    return null;
  }
  const visitorsRoute = `#/tickets/${current.ticket.id}/visitors`;
  if (!(quantity(current) > 0)) {
    replace(visitorsRoute);
    return null;
  }
  if (!current.key) {
    current.key = randomKey();
    saveDraft(current);
  }
  const {ticket, slot} = current;
  const count = quantity(current);
  const total = centsText(cents(ticket.price) * count);
  const problems = h('div', {class: 'problems'});
  const submit = h('button', {type: 'button', class: 'button'}, t('submit'));
  let busy = false;

  function refused(error) {
    let actions = [];
    let message = error.apiMessage || t('networkError');
    if (error instanceof LoginUnavailable) {
      message = t('noLogin');
    } else if (error.unknownOutcome) {
      message = t('unknownResult');
      actions = [[t('retry'), send]];
    } else if (['sold_out', 'closed'].includes(error.code)) {
      // The sessions shown next may be a second older than this refusal.
      current.refused = {
        slot: current.slot.id, state: error.code, at: Date.now()};
      saveDraft(current);
      actions = [[t('chooseAgain'),
        () => go(`#/tickets/${ticket.id}/date`)]];
    } else if (['duplicate_visitor', 'invalid_id_number', 'invalid_phone',
      'contact_required', 'group_size', 'invalid_request', 'visitors_limit',
      'id_limit', 'id_window_limit', 'minors_limit', 'guardian_required',
      'birth_date_required', 'id_restricted']
      .includes(error.code)) {
      actions = [[t('edit'), () => go(visitorsRoute)]];
    } else if (error.code === 'rate_limited') {
      actions = [[t('retry'), send]];
    }
    const box = alertBox(message, actions);
    problems.replaceChildren(box);
    const action = box.querySelector('button');
    if (action) {
      action.focus();
    } else {
      box.tabIndex = -1;
      box.focus();
    }
  }

  async function send() {
    if (busy) {
      return;
    }
    busy = true;
    submit.disabled = true;
    submit.textContent = t('submitting');
    problems.replaceChildren();
    try {
      const {data} = await call('/bookings', {
        method: 'POST', auth: true, body: body(current)});
      await saveCompanions(current);
      clearDraft();
      replace(`#/bookings/${encodeURIComponent(data.number)}`);
    } catch (error) {
      if (error instanceof LoginPending) {
        return;
      }
      busy = false;
      submit.disabled = false;
      submit.textContent = t('submit');
      refused(error);
    }
  }
  submit.addEventListener('click', send);

  return h('div', {class: 'confirm'},
    h('h1', {class: 'page-title'}, t('confirmTitle')),
    h('section', {class: 'card summary', 'aria-label': t('ticket')},
      h('p', {class: 'summary-ticket'}, ticket.name),
      h('dl', {class: 'facts'},
        row(t('date'), `${dayText(slot.date)} ${weekdayText(slot.date)}`),
        row(t('session'), `${slot.session} `,
          h('span', {}, windowText(slot))))),
    people(current),
    current.contact.name || current.contact.phone
      ? section(t('contact'), h('p', {}, [current.contact.name,
        current.contact.phone].filter(Boolean).join(' '))) : null,
    h('section', {class: 'card', 'aria-label': t('total')},
      h('dl', {class: 'facts'},
        row(t('quantity'), t('priceTimes', {
          amount: amount(ticket.price), n: count})),
        row(t('cancelRule'), ticket.refundable ? t('freeCancel')
          : t('noRefund')),
        row(t('total'), h('strong', {class: 'amount'},
          t('price', {amount: total}))))),
    problems,
    actionBar(
      h('span', {class: 'bar-total'}, t('total'), ' ',
        h('strong', {class: 'amount'}, t('price', {amount: total}))),
      submit));
}
