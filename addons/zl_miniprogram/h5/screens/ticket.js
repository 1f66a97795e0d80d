// #/tickets/<id> — a ticket's page and 立即预约.
import {get} from '../api.js';
import {h, icon, uid} from '../dom.js';
import {t} from '../i18n.js';
import {go} from '../router.js';
import {newDraft, promoQuery} from '../store.js';
import {actionBar, section} from '../ui.js';
import {priceTag} from './tickets.js';

function tags(ticket) {
  const items = [ticket.refundable ? t('refundable') : t('notRefundable')];
  if (ticket.real_name) {
    items.push(t('realName'));
  }
  if (ticket.per_user_limit > 0) {
    items.push(t('perUserLimit', {n: ticket.per_user_limit}));
  }
  const rules = ticket.visit_rules;
  if (rules && rules.visitors_max) {
    items.push(t('visitorsMax', {n: rules.visitors_max}));
  }
  if (rules && rules.minors_need_adult) {
    items.push(t('minorsWithAdult', {age: rules.minor_age}));
  }
  if (ticket.kind === 'group' && ticket.group_min !== null) {
    items.push(t('groupSize', {min: ticket.group_min, max: ticket.group_max}));
  }
  return h('ul', {class: 'tags'}, items.map((text) => h('li', {}, text)));
}

function album(ticket) {
  if (!ticket.album || !ticket.album.length) {
    return null;
  }
  const id = uid('album');
  const images = ticket.album.map((image) => h('img', {
    src: image.image_url, alt: image.caption || ticket.name,
    loading: 'lazy', decoding: 'async'}));
  // Focusable: a keyboard scrolls the strip too.
  return h('section', {class: 'card', 'aria-labelledby': id},
    h('h2', {id}, t('album')),
    h('div', {
      class: 'album scroller', role: 'group', tabindex: 0,
      'aria-labelledby': id}, images));
}

function intro(ticket) {
  if (!ticket.intro_html) {
    return null;
  }
  // Sanitised by the server when staff saved it; the CSP refuses any
  // script that slipped through anyway.
  const body = h('div', {class: 'intro'});
  body.innerHTML = ticket.intro_html;
  return section(t('ticketIntro'), body);
}

function contact(ticket) {
  if (!ticket.phone && !ticket.address) {
    return null;
  }
  const rows = [];
  if (ticket.phone) {
    rows.push(h('li', {},
      icon('phone'),
      h('span', {class: 'label'}, t('phone')),
      h('a', {href: `tel:${ticket.phone.replace(/\s+/g, '')}`},
        ticket.phone)));
  }
  if (ticket.address) {
    rows.push(h('li', {},
      icon('pin'),
      h('span', {class: 'label'}, t('address')),
      h('span', {}, ticket.address)));
  }
  return section(t('ticketInfo'), h('ul', {class: 'contact'}, rows));
}

export async function ticketScreen(ctx) {
  const id = Number(ctx.params[0]);
  const ticket = await get(`/tickets/${id}${promoQuery(id)}`);
  const book = () => {
    newDraft(ticket);
    go(`#/tickets/${id}/date`);
  };
  return h('div', {class: 'ticket'},
    ticket.poster_url ? h('div', {class: 'poster'},
      h('img', {src: ticket.poster_url, alt: ticket.name})) : null,
    h('div', {class: 'card ticket-head'},
      h('h1', {}, ticket.name),
      ticket.category ? h('p', {class: 'meta'}, ticket.category) : null,
      priceTag(ticket, 'price big'),
      tags(ticket)),
    album(ticket),
    intro(ticket),
    contact(ticket),
    actionBar(
      priceTag(ticket, 'price bar-price'),
      h('button', {type: 'button', class: 'button', onclick: book},
        t('bookNow'))));
}
