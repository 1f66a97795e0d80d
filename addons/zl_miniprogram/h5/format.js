// Dates, times, money and states as the visitor reads them. The API's
// times are the site's own (with its offset): the page shows their date
// and time parts as written, never converted to the phone's time zone.
import {monthDay, t, weekday} from './i18n.js';

// '2026-11-27' or '2026-11-27T17:00:00+08:00' -> {y, m, d}
function parts(iso) {
  const [y, m, d] = iso.slice(0, 10).split('-').map(Number);
  return {y, m, d};
}

export function dayText(iso) {
  const {m, d} = parts(iso);
  return monthDay(m, d);
}

export function weekdayText(iso) {
  const {y, m, d} = parts(iso);
  return weekday(new Date(Date.UTC(y, m - 1, d)).getUTCDay());
}

// 'HH:MM' of an ISO date-time
export function timeText(iso) {
  return iso.slice(11, 16);
}

// 'M月D日 HH:MM'
export function momentText(iso) {
  return `${dayText(iso)} ${timeText(iso)}`;
}

export function windowText(slot) {
  return `${timeText(slot.checkin_start)}-${timeText(slot.checkin_end)}`;
}

// '80' or '80.5' -> '80.00', '80.50' (decimal strings: no float maths).
export function amount(value) {
  const text = String(value ?? '0');
  const negative = text.startsWith('-');
  const [whole, fraction = ''] = text.replace('-', '').split('.');
  const cents = (fraction + '00').slice(0, 2);
  return `${negative ? '-' : ''}${whole || '0'}.${cents}`;
}

export function money(value) {
  return t('price', {amount: amount(value)});
}

// Whole cents, to compare prices and multiply by a quantity.
export function cents(value) {
  const [whole, fraction] = amount(value).split('.');
  const sign = whole.startsWith('-') ? -1 : 1;
  return sign * (Math.abs(Number(whole)) * 100 + Number(fraction));
}

export function centsText(total) {
  const sign = total < 0 ? '-' : '';
  const abs = Math.abs(total);
  const fraction = String(abs % 100).padStart(2, '0');
  return `${sign}${Math.floor(abs / 100)}.${fraction}`;
}

// A booking's state; unknown ones as the API names them.
const STATES = new Set([
  'confirmed', 'used', 'cancelled', 'refunded', 'expired', 'no_show',
  'checked_in']);

export function bookingState(state) {
  return STATES.has(state) ? t(state) : state;
}

// A slot's state as a date chip or a session says it.
export function slotStateText(slot) {
  switch (slot.state) {
    case 'open':
      return t('stateOpen');
    case 'sold_out':
      return t('stateSoldOut');
    case 'not_yet_open':
      return slot.opens_at ? opensText(slot.opens_at) : t('stateClosed');
    case 'closed':
      return t('stateClosed');
    default:
      return slot.state;
  }
}

export function opensText(opensAt) {
  return t('opensAt', {date: dayText(opensAt), time: timeText(opensAt)});
}
