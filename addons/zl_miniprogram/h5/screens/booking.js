// #/bookings/<number> — the e-ticket: one QR code per pass, fetched with
// the visitor's token; 取消预约 when the API says the booking may be.
import {LoginPending, call, get, imageUrl, requireLogin} from '../api.js';
import {h, icon, uid} from '../dom.js';
import {
  bookingState, dayText, momentText, weekdayText, windowText,
} from '../format.js';
import {t} from '../i18n.js';
import {onLeave, show} from '../router.js';
import {alertBox, section} from '../ui.js';

// Keep the phone's screen on while a gate scans it; a phone that will
// not (no API, low battery, not visible) is simply left alone.
function keepAwake() {
  let lock = null;
  const acquire = () => {
    if (!navigator.wakeLock || document.visibilityState !== 'visible') {
      return;
    }
    navigator.wakeLock.request('screen').then((value) => {
      lock = value;
    }, () => {});
  };
  document.addEventListener('visibilitychange', acquire);
  acquire();
  onLeave(() => {
    document.removeEventListener('visibilitychange', acquire);
    if (lock) {
      lock.release().catch(() => {});
    }
  });
}

function qrImage(pass, urls) {
  const image = h('img', {
    class: 'qr-image', alt: t('qrAlt', {code: pass.code}),
    width: 320, height: 320});
  const frame = h('div', {class: 'qr-frame'}, image);
  const load = () => imageUrl(`/${pass.qr_url}`).then((url) => {
    urls.push(url);
    image.src = url;
  }, (error) => {
    if (error instanceof LoginPending) {
      return;
    }
    frame.replaceChildren(image, h('button', {
      type: 'button', class: 'button small secondary qr-retry',
      onclick: () => {
        frame.replaceChildren(image);
        load();
      }}, t('retry')));
  });
  load();
  return frame;
}

function passView(pass, urls) {
  if (pass.state === 'valid') {
    return h('li', {class: 'pass'},
      qrImage(pass, urls),
      h('p', {class: 'pass-code'}, pass.code),
      h('p', {class: 'pass-admits'}, t('admits', {n: pass.admits})));
  }
  return h('li', {class: 'pass void'},
    h('p', {class: 'pass-code'}, pass.code),
    h('p', {class: 'pass-state'},
      pass.state === 'used' ? t('passUsed') : t('passInvalid')));
}

function cancelArea(booking, rebuild) {
  if (!booking.cancellable) {
    if (booking.state !== 'confirmed') {
      return null;
    }
    return h('p', {class: 'card note'}, t('notCancellable'), ' ',
      booking.refundable ? t('cancelTooLate') : t('noRefund'));
  }
  const opener = h('button', {type: 'button', class: 'button secondary block'},
    t('cancel'));
  const titleId = uid('dialog');
  const problems = h('div');
  const keep = h('button', {type: 'button', class: 'button secondary',
    autofocus: true}, t('cancelKeep'));
  const confirm = h('button', {type: 'button', class: 'button danger'},
    t('cancelConfirm'));
  const dialog = h('dialog', {class: 'sheet', 'aria-labelledby': titleId},
    h('h2', {id: titleId}, t('cancelTitle')),
    h('p', {}, booking.refundable ? t('cancelRefund') : t('cancelRelease')),
    booking.cancel_until ? h('p', {class: 'until'}, t('cancelUntil',
      {when: momentText(booking.cancel_until)})) : null,
    // The server's preview of this moment: free, or with a strike.
    booking.cancel_preview ? h('p', {class: booking.cancel_now === 'strike'
      ? 'preview warn' : 'preview'}, booking.cancel_preview) : null,
    problems,
    h('div', {class: 'dialog-actions'}, keep, confirm));
  let busy = false;
  let done = false;
  opener.addEventListener('click', () => {
    problems.replaceChildren();
    dialog.showModal();
  });
  keep.addEventListener('click', () => dialog.close());
  dialog.addEventListener('cancel', (event) => {
    if (busy) {
      event.preventDefault();
    }
  });
  // Escape or 暂不取消: back to the button that opened it.
  dialog.addEventListener('close', () => {
    if (!done) {
      opener.focus();
    }
  });
  confirm.addEventListener('click', async () => {
    busy = true;
    confirm.disabled = true;
    confirm.textContent = t('cancelling');
    problems.replaceChildren();
    try {
      const number = encodeURIComponent(booking.number);
      const {data} = await call(`/bookings/${number}/cancel`,
        {method: 'POST', auth: true});
      done = true;
      dialog.close();
      rebuild(data, t('cancelDone'));
    } catch (error) {
      if (error instanceof LoginPending) {
        return;
      }
      busy = false;
      confirm.disabled = false;
      confirm.textContent = t('cancelConfirm');
      problems.replaceChildren(alertBox(
        error.apiMessage || t('networkError')));
    }
  });
  return [opener, dialog];
}

function bookingView(booking, urls, message) {
  const rebuild = (data, text) => show(bookingView(data, urls, text));
  const {slot} = booking;
  return h('div', {class: 'eticket'},
    h('h1', {class: 'page-title'}, t('eticket')),
    message ? h('p', {role: 'status', class: 'notice-bar'},
      icon('check'), message) : null,
    h('section', {class: 'card ticket-summary', 'aria-label': t('ticket')},
      h('div', {class: 'summary-head'},
        h('p', {class: 'summary-ticket'}, booking.ticket.name),
        h('span', {class: `badge state-${booking.state}`},
          bookingState(booking.state))),
      h('dl', {class: 'facts'},
        h('dt', {}, t('bookingNumber')),
        h('dd', {class: 'mono'}, booking.number),
        h('dt', {}, t('date')),
        h('dd', {}, `${dayText(slot.date)} ${weekdayText(slot.date)}`),
        h('dt', {}, t('session')),
        h('dd', {}, `${slot.session} `, h('span', {}, windowText(slot))))),
    section(t('passes'),
      h('ul', {class: 'passes'},
        booking.passes.map((pass) => passView(pass, urls))),
      booking.passes.some((pass) => pass.state === 'valid')
        ? h('p', {class: 'hint center'}, t('showAtGate')) : null),
    booking.visitors && booking.visitors.length
      ? section(t('visitors'), h('ul', {class: 'people'},
        booking.visitors.map((item) => h('li', {},
          h('span', {class: 'person-name'}, item.name), ' ',
          h('span', {class: 'masked'}, item.id_number)))))
      : null,
    cancelArea(booking, rebuild));
}

export async function bookingScreen(ctx) {
  requireLogin();
  let number = ctx.params[0];
  try {
    number = decodeURIComponent(number);
  } catch {
    // Not %-encoded: as it is.
  }
  const booking = await get(`/bookings/${encodeURIComponent(number)}`,
    {auth: true});
  // Pictures of passes, freed with the screen.
  const urls = [];
  onLeave(() => urls.splice(0).forEach((url) => URL.revokeObjectURL(url)));
  if (booking.passes.some((pass) => pass.state === 'valid')) {
    keepAwake();
  }
  return bookingView(booking, urls);
}
