// The H5 visitor page's entry: the page's frame (header, tab bar), the
// routes, the return from WeChat's login and a promotion link's scene.
import {ApiError, finishLogin, get} from './api.js';
import {h, icon} from './dom.js';
import {htmlLang, t} from './i18n.js';
import {back, render, replace, route, setFlash, show} from './router.js';
import {applySite, home} from './site.js';
import {draft, setPromo} from './store.js';
import {failureView} from './ui.js';
import {bookingScreen} from './screens/booking.js';
import {bookingsScreen} from './screens/bookings.js';
import {confirmScreen} from './screens/confirm.js';
import {dateScreen} from './screens/date.js';
import {homeScreen} from './screens/home.js';
import {ticketScreen} from './screens/ticket.js';
import {ticketsScreen} from './screens/tickets.js';
import {visitorsScreen} from './screens/visitors.js';

route(/^\/$/, homeScreen, {tab: 'home'});
route(/^\/tickets$/, ticketsScreen, {tab: 'tickets'});
route(/^\/tickets\/(\d+)$/, ticketScreen, {
  tab: 'tickets', parent: () => '#/tickets'});
route(/^\/tickets\/(\d+)\/date$/, dateScreen, {
  tab: 'tickets', parent: (id) => `#/tickets/${id}`});
route(/^\/tickets\/(\d+)\/visitors$/, visitorsScreen, {
  tab: 'tickets', parent: (id) => `#/tickets/${id}/date`});
route(/^\/confirm$/, confirmScreen, {
  tab: 'tickets', parent: () => {
    const current = draft();
    return current ? `#/tickets/${current.ticket.id}/visitors` : '#/tickets';
  }});
route(/^\/bookings$/, bookingsScreen, {tab: 'bookings'});
route(/^\/bookings\/([^/]+)$/, bookingScreen, {
  tab: 'bookings', parent: () => '#/bookings'});

function frame() {
  document.documentElement.lang = htmlLang;
  const backButton = h('button', {
    type: 'button', class: 'back', hidden: true, 'aria-label': t('back'),
    onclick: back}, icon('back'));
  const header = h('header', {class: 'topbar'},
    h('div', {class: 'topbar-inner'}, backButton,
      h('p', {class: 'topbar-title', 'data-site-name': ''},
        t('defaultSiteName'))));
  const tabs = [
    ['home', '#/', 'home', 'navHome'],
    ['tickets', '#/tickets', 'ticket', 'navTickets'],
    ['bookings', '#/bookings', 'list', 'navBookings'],
  ];
  const nav = h('nav', {class: 'tabbar', 'aria-label': t('navMain')},
    h('ul', {}, tabs.map(([tab, href, picture, label]) => h('li', {},
      h('a', {href, 'data-tab': tab}, icon(picture), h('span', {},
        t(label)))))));
  const main = document.getElementById('app');
  main.replaceChildren(h('p', {role: 'status', class: 'loading'},
    t('loading')));
  document.body.prepend(header);
  document.body.append(nav);
  watchTextSize();
}

// With large text (the visitor's setting, 150 % and more) the floating
// bars would cover half the screen: they then stay in the page's flow
// (.large-text in app.css). A 1rem probe follows the root font size.
function watchTextSize() {
  const probe = h('span', {class: 'rem-probe', 'aria-hidden': 'true'});
  document.body.append(probe);
  const check = () => document.documentElement.classList.toggle(
    'large-text', probe.offsetHeight >= 24);
  new ResizeObserver(check).observe(probe);
  check();
}

// A promotion link (?scene=): resolve it once, keep it for the visit, and
// open its ticket; the scene leaves the URL so a reload does not redo it.
async function promotion() {
  const url = new URL(location.href);
  const scene = url.searchParams.get('scene');
  if (scene === null) {
    return;
  }
  url.searchParams.delete('scene');
  history.replaceState(null, '', url.pathname + url.search + url.hash);
  try {
    const promo = await get(`/promo/${encodeURIComponent(scene)}`);
    setPromo(promo);
    history.replaceState(null, '', `#/tickets/${promo.ticket_id}`);
  } catch (error) {
    if (error instanceof ApiError && error.status === 410) {
      setFlash(t('promoExpired'));
    } else if (error instanceof ApiError && error.status === 404) {
      setFlash(t('promoInvalid'));
    } else {
      setFlash(t('loadFailed'));
    }
    history.replaceState(null, '', '#/');
  }
}

async function start() {
  frame();
  const site = home().then(applySite, () => applySite(null));
  let loginError = null;
  try {
    await finishLogin();
  } catch (error) {
    loginError = error;
  }
  await promotion();
  await site;
  window.addEventListener('hashchange', render);
  if (loginError) {
    show(failureView(loginError, () => replace(location.hash || '#/')));
  } else {
    render();
  }
}

start();
