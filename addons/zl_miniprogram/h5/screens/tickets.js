// #/tickets — every ticket on sale, and the card both lists use.
import {get} from '../api.js';
import {h, icon} from '../dom.js';
import {t} from '../i18n.js';
import {cents, money} from '../format.js';

// Price with the original price struck through when it is higher; a
// screen reader hears 「原价」 before the struck one.
export function priceTag(ticket, className = 'price') {
  const struck = cents(ticket.original_price) > cents(ticket.price);
  return h('span', {class: className},
    h('span', {class: 'amount'}, money(ticket.price)),
    struck ? ' ' : null,
    struck ? h('s', {class: 'original'},
      h('span', {class: 'sr-only'}, `${t('originalPrice')} `),
      money(ticket.original_price)) : null);
}

function poster(ticket) {
  if (ticket.poster_url) {
    return h('img', {
      class: 'thumb', src: ticket.poster_url, alt: '', loading: 'lazy',
      decoding: 'async'});
  }
  // No poster: the ticket's first character on the theme's tint.
  return h('span', {class: 'thumb placeholder', 'aria-hidden': 'true'},
    [...ticket.name][0] || '');
}

// A link named by what it shows, the ticket's name first.
export function ticketCard(ticket) {
  return h('a', {class: 'ticket-card', href: `#/tickets/${ticket.id}`},
    poster(ticket),
    h('span', {class: 'ticket-body'},
      h('span', {class: 'ticket-name'}, ticket.name),
      ticket.category ? h('span', {class: 'meta'}, ticket.category) : null,
      priceTag(ticket)),
    icon('chevron', 'icon chevron'));
}

export async function ticketsScreen() {
  const list = await get('/tickets');
  return h('div', {class: 'tickets'},
    h('h1', {class: 'page-title'}, t('allTickets')),
    list.tickets.length
      ? h('ul', {class: 'ticket-list'},
        list.tickets.map((ticket) => h('li', {}, ticketCard(ticket))))
      : h('p', {class: 'empty-text'}, t('noTickets')));
}
