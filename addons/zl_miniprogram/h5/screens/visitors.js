// #/tickets/<id>/visitors — who is coming (or the group), and the contact.
// Needs a visitor session. 下一步 is always enabled: with errors it shows
// them all and moves focus to the first, and nothing is sent.
import {get, requireLogin} from '../api.js';
import {h} from '../dom.js';
import {dayText, windowText} from '../format.js';
import {t} from '../i18n.js';
import {go, replace} from '../router.js';
import {draftOf, saveDraft} from '../store.js';
import {actionBar, checked, field, input} from '../ui.js';
import {
  companionsFieldset, phoneMessage, requiredText, visitorBlock,
} from './visitor-form.js';

// Without a per-user limit, a booking still takes at most this many.
const DEFAULT_LIMIT = 10;

function contactFields(current) {
  const name = field({label: t('contactName'), control: input({
    autocomplete: 'name', maxlength: 128, value: current.contact.name})});
  const phone = field({label: t('contactPhone'), control: input({
    type: 'tel', inputmode: 'tel', autocomplete: 'tel', maxlength: 128,
    value: current.contact.phone})});
  const checkPhone = checked(phone, () => phoneMessage(phone.control.value));
  return {
    name, phone,
    validate: () => (checkPhone() ? null : phone.control),
    value: () => ({
      name: name.control.value.trim(), phone: phone.control.value.trim()}),
  };
}

function groupForm(current) {
  const {group_min: min, group_max: max} = current.ticket;
  const bounds = {min, max};
  const name = field({label: t('groupName'), control: input({
    maxlength: 128, value: current.group.name})});
  const leader = field({label: t('groupLeader'), control: input({
    autocomplete: 'name', maxlength: 128, value: current.group.leader})});
  const size = field({
    label: t('groupCount'),
    hint: min !== null ? t('groupSize', bounds) : null,
    control: input({
      type: 'number', inputmode: 'numeric', min, max, step: 1,
      value: current.group.size})});
  const sizeMessage = () => {
    const text = size.control.value.trim();
    const n = Number(text);
    const valid = /^[0-9]+$/.test(text) && n > 0
      && (min === null || n >= min) && (max === null || n <= max);
    return valid ? null : t('errGroupSize', bounds);
  };
  const contact = contactFields(current);
  const checks = [
    [name.control, checked(name, () => requiredText(
      name.control.value, 'errGroupName'))],
    [leader.control, checked(leader, () => requiredText(
      leader.control.value, 'errGroupLeader'))],
    [size.control, checked(size, sizeMessage)],
    [contact.phone.control, () => !contact.validate()],
  ];
  const root = h('fieldset', {class: 'card'},
    h('legend', {}, t('groupInfo')),
    name.root, leader.root, size.root, contact.name.root, contact.phone.root);
  return {
    root: [root],
    validate: () => {
      const bad = checks.filter(([, check]) => !check());
      return bad.length ? bad[0][0] : null;
    },
    save: () => {
      current.group = {
        name: name.control.value.trim(), leader: leader.control.value.trim(),
        size: size.control.value.trim()};
      current.contact = contact.value();
      current.visitors = [];
      current.companions = [];
    },
  };
}

function individualForm(current, companions) {
  // The smallest of the ticket's limits (the engine decides on the same).
  const limit = Math.min(DEFAULT_LIMIT,
    ...[current.ticket.per_user_limit, current.ticket.visitors_max]
      .filter((n) => n > 0));
  const list = h('div', {class: 'visitor-list'});
  const blocks = [];
  // Those of the draft the visitor still has.
  let chosen = current.companions.map((item) => item.id)
    .filter((id) => companions.some((companion) => companion.id === id));
  const contact = contactFields(current);
  // The contact follows visitor 1 until the visitor types one.
  const edited = {
    name: Boolean(current.contact.name), phone: Boolean(current.contact.phone)};
  contact.name.control.addEventListener('input', () => {
    edited.name = true;
  });
  contact.phone.control.addEventListener('input', () => {
    edited.phone = true;
  });
  const follow = () => {
    const first = blocks[0];
    if (!edited.name) {
      contact.name.control.value = first.name.control.value.trim();
    }
    if (!edited.phone) {
      contact.phone.control.value = first.phone.control.value.trim();
      contact.phone.setError(null);
    }
  };
  const add = h('button', {
    type: 'button', class: 'button secondary block',
    onclick: () => {
      addBlock({});
      blocks.at(-1).name.control.focus();
    }}, t('addVisitor'));
  const limitNote = h('p', {class: 'hint'}, t('visitorLimit', {n: limit}));

  function refresh() {
    blocks.forEach((block, index) => block.renumber(index + 1, blocks.length));
    const full = blocks.length + chosen.length >= limit;
    add.disabled = full;
    limitNote.hidden = !full;
  }
  function addBlock(value) {
    const block = visitorBlock(value, {
      onRemove: (gone) => {
        const index = blocks.indexOf(gone);
        blocks.splice(index, 1);
        gone.root.remove();
        refresh();
        follow();
        // Focus to the visitor that took its place, or the one before.
        blocks[Math.min(index, blocks.length - 1)].name.control.focus();
      },
      onChange: () => {
        if (block === blocks[0]) {
          follow();
        }
      },
    });
    blocks.push(block);
    list.append(block.root);
    refresh();
  }
  for (const value of current.visitors.length ? current.visitors : [{}]) {
    addBlock(value);
  }
  const companionBox = companionsFieldset(companions, chosen, (event) => {
    const id = Number(event.target.value);
    chosen = event.target.checked ? [...chosen, id]
      : chosen.filter((item) => item !== id);
    refresh();
  });
  const contactBox = h('fieldset', {class: 'card'},
    h('legend', {}, t('contactSection')),
    contact.name.root, contact.phone.root);
  return {
    root: [companionBox, list, add, limitNote, contactBox],
    validate: () => {
      // With anybody coming, an untouched extra visitor is just ignored.
      const someone = chosen.length > 0 || blocks.some((b) => !b.isEmpty());
      let first = null;
      for (const block of blocks) {
        if (someone && block.isEmpty()) {
          block.clear();
        } else {
          const invalid = block.validate();
          first = first || invalid;
        }
      }
      const contactInvalid = contact.validate();
      return first || contactInvalid;
    },
    save: () => {
      current.visitors = blocks.filter((b) => !b.isEmpty())
        .map((b) => b.value());
      current.companions = companions.filter((c) => chosen.includes(c.id))
        .map((c) => ({id: c.id, name: c.name, id_number: c.id_number}));
      current.contact = contact.value();
    },
  };
}

export async function visitorsScreen(ctx) {
  const id = Number(ctx.params[0]);
  const current = draftOf(id);
  if (!current || !current.slot) {
    replace(`#/tickets/${id}/date`);
    return null;
  }
  requireLogin();
  const group = current.ticket.kind === 'group';
  const companions = group ? []
    : (await get('/companions', {auth: true})).companions;
  const form = group ? groupForm(current)
    : individualForm(current, companions);
  const next = () => {
    const invalid = form.validate();
    if (invalid) {
      invalid.focus();
      return;
    }
    form.save();
    saveDraft(current);
    go('#/confirm');
  };
  const slot = current.slot;
  return h('form', {
    class: 'visitors', novalidate: true,
    onsubmit: (event) => {
      event.preventDefault();
      next();
    }},
  h('h1', {class: 'page-title'}, t(group ? 'groupTitle' : 'visitorsTitle')),
  h('p', {class: 'subtitle'},
    `${current.ticket.name} · ${dayText(slot.date)} ${slot.session} `
    + windowText(slot)),
  form.root,
  actionBar(h('button', {type: 'submit', class: 'button'}, t('next'))));
}
