// Hash routes: one screen at a time in <main id="app">. A screen is an
// async function (ctx) -> Node whose content holds one <h1>; the router
// shows 加载中… while it works, a failure with 重试 when it throws, then
// moves focus to the h1 and names the document after it.
import {LoginPending} from './api.js';
import {h} from './dom.js';
import {t} from './i18n.js';
import {failureView} from './ui.js';

const routes = [];
let current = 0;
const cleanups = [];
let flash = null;
// The path shown now, and the one before it (for 返回).
let shown = null;
let previous = null;

export const site = {name: t('defaultSiteName')};

// pattern: a RegExp over the path after '#'; options.tab: the tab bar
// link it belongs to; options.parent(params): where 返回 goes.
export function route(pattern, screen, options = {}) {
  routes.push({pattern, screen, ...options});
}

// A message for the next screen (shown under its h1 as an alert).
export function setFlash(message) {
  flash = message;
}

// Called when the visitor leaves the screen (wake locks, blob URLs).
export function onLeave(cleanup) {
  cleanups.push(cleanup);
}

export function path() {
  return location.hash.replace(/^#/, '') || '/';
}

export function go(hash) {
  if (location.hash === hash) {
    render();
  } else {
    location.hash = hash;
  }
}

// Another screen in place of this one (no history entry for the old).
export function replace(hash) {
  history.replaceState(null, '', hash);
  render();
}

function find(where) {
  for (const entry of routes) {
    const match = entry.pattern.exec(where);
    if (match) {
      return {entry, params: match.slice(1)};
    }
  }
  return null;
}

function notFound() {
  return h('div', {class: 'empty'},
    h('h1', {}, t('notFound')),
    h('a', {class: 'button secondary', href: '#/'}, t('goHome')));
}

export async function render() {
  const id = ++current;
  for (const cleanup of cleanups.splice(0)) {
    try {
      cleanup();
    } catch {
      // A cleanup that fails must not stop the next screen.
    }
  }
  const where = path();
  if (where !== shown) {
    previous = shown;
  }
  const found = find(where);
  const view = document.getElementById('app');
  chrome(found);
  view.setAttribute('aria-busy', 'true');
  view.replaceChildren(h('p', {role: 'status', class: 'loading'},
    h('span', {class: 'spinner', 'aria-hidden': 'true'}), t('loading')));
  const ctx = {
    params: found ? found.params : [],
    alive: () => id === current,
  };
  let node;
  try {
    node = found ? await found.entry.screen(ctx) : notFound();
  } catch (error) {
    if (!ctx.alive() || error instanceof LoginPending) {
      return;
    }
    node = failureView(error, render);
  }
  if (!ctx.alive() || !node) {
    return;
  }
  view.removeAttribute('aria-busy');
  show(node);
  shown = where;
}

// Replace the screen's content (also after an in-place change, such as a
// cancellation) and move focus to its h1.
export function show(node) {
  const view = document.getElementById('app');
  view.replaceChildren(node);
  const heading = view.querySelector('h1');
  if (flash && heading) {
    heading.after(h('p', {role: 'alert', class: 'notice-bar error'}, flash));
    flash = null;
  }
  window.scrollTo({top: 0, behavior: 'instant'});
  if (heading) {
    heading.tabIndex = -1;
    heading.focus({preventScroll: true});
    document.title = t('titleSuffix',
      {title: heading.textContent, site: site.name});
  }
}

// The tab bar's current link and the header's back button.
function chrome(found) {
  const tab = found ? found.entry.tab : null;
  for (const link of document.querySelectorAll('.tabbar a')) {
    if (link.dataset.tab === tab) {
      link.setAttribute('aria-current', 'page');
    } else {
      link.removeAttribute('aria-current');
    }
  }
  const back = document.querySelector('.topbar .back');
  const parent = found && found.entry.parent
    ? found.entry.parent(...found.params) : null;
  back.hidden = !parent;
  back.dataset.parent = parent || '';
}

// 返回: the browser's back when it leads to the parent screen, else the
// parent itself (a visitor who opened a shared link has no history).
export function back() {
  const parent = document.querySelector('.topbar .back').dataset.parent;
  if (previous !== null && `#${previous}` === parent) {
    history.back();
  } else {
    go(parent || '#/');
  }
}
