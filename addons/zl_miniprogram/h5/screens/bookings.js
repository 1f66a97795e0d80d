// #/bookings — the visitor's bookings, newest first (the API's order).
import {get, requireLogin} from '../api.js';
import {h, icon} from '../dom.js';
import {bookingState, dayText, windowText} from '../format.js';
import {t} from '../i18n.js';

function card(booking) {
  const {slot} = booking;
  const state = bookingState(booking.state);
  // The contract's name (ticket, date, session, state), then the rest of
  // what the card shows, in the order it is read.
  const name = [booking.ticket.name, dayText(slot.date), slot.session, state,
    windowText(slot)].join(' ');
  return h('a', {
    class: 'booking-card', 'aria-label': name,
    href: `#/bookings/${encodeURIComponent(booking.number)}`},
  h('span', {class: 'ticket-name'}, booking.ticket.name),
  h('span', {class: 'booking-when'}, `${dayText(slot.date)} ${slot.session}`),
  h('span', {class: `badge state-${booking.state}`}, state),
  h('span', {class: 'booking-window meta'}, windowText(slot)),
  icon('chevron', 'icon chevron'));
}

export async function bookingsScreen() {
  requireLogin();
  const {bookings} = await get('/bookings', {auth: true});
  return h('div', {class: 'bookings'},
    h('h1', {class: 'page-title'}, t('myBookings')),
    bookings.length
      ? h('ul', {class: 'booking-list'},
        bookings.map((booking) => h('li', {}, card(booking))))
      : h('div', {class: 'empty'},
        icon('ticket', 'empty-icon'),
        h('p', {}, t('noBookings')),
        h('a', {class: 'button secondary', href: '#/tickets'},
          t('browseTickets'))));
}
