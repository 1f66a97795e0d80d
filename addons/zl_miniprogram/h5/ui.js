// Pieces every screen uses: failures, alerts, the bottom action bar and
// form fields with their inline errors.
import {LoginFailed, LoginUnavailable, login} from './api.js';
import {h, icon, uid} from './dom.js';
import {t} from './i18n.js';

// What a screen shows instead of itself when loading failed.
export function failureView(error, retry) {
  if (error instanceof LoginUnavailable) {
    return h('div', {class: 'empty'},
      icon('alert', 'empty-icon'),
      h('h1', {}, t('noLogin')),
      h('a', {class: 'button secondary', href: '#/'}, t('goHome')));
  }
  if (error instanceof LoginFailed) {
    return h('div', {class: 'empty'},
      icon('alert', 'empty-icon'),
      h('h1', {}, t('loginFailed')),
      error.apiMessage ? h('p', {}, error.apiMessage) : null,
      h('button', {type: 'button', class: 'button', onclick: () => {
        try {
          login();
        } catch {
          // Leaving for WeChat (or no login offered: nothing to do).
        }
      }}, t('loginAgain')));
  }
  // The API's own words when it gave any (404 ticket_not_found...).
  return h('div', {class: 'empty'},
    icon('alert', 'empty-icon'),
    h('h1', {}, t('loadFailed')),
    error && error.apiMessage ? h('p', {}, error.apiMessage) : null,
    h('button', {type: 'button', class: 'button', onclick: retry},
      t('retry')));
}

// role="alert" box with optional action buttons [[text, handler], ...]
export function alertBox(message, actions = []) {
  return h('div', {role: 'alert', class: 'alert'},
    h('p', {}, icon('alert'), h('span', {}, message)),
    actions.length ? h('div', {class: 'alert-actions'},
      actions.map(([text, handler]) => h('button', {
        type: 'button', class: 'button small', onclick: handler}, text)))
      : null);
}

// The big button(s) at the bottom of a form, above the tab bar.
export function actionBar(...children) {
  return h('div', {class: 'action-bar'}, h('div', {class: 'action-inner'},
    ...children));
}

export function section(title, ...children) {
  const id = uid('sec');
  return h('section', {class: 'card', 'aria-labelledby': id},
    h('h2', {id}, title), ...children);
}

// A labelled control with an inline error linked by aria-describedby:
// {label, control, hint} -> {root, control, setError(text|null)}
export function field({label, control, hint}) {
  const id = control.id || uid('f');
  control.id = id;
  const errorId = `${id}-error`;
  const describedBy = [];
  let hintNode = null;
  if (hint) {
    hintNode = h('p', {class: 'hint', id: `${id}-hint`}, hint);
    describedBy.push(hintNode.id);
  }
  const error = h('p', {class: 'field-error', id: errorId});
  describedBy.push(errorId);
  control.setAttribute('aria-describedby', describedBy.join(' '));
  const root = h('div', {class: 'field'},
    h('label', {for: id}, label), control, hintNode, error);
  return {
    root,
    control,
    setError(text) {
      error.replaceChildren(text ? icon('alert') : '', text || '');
      if (text) {
        control.setAttribute('aria-invalid', 'true');
      } else {
        control.removeAttribute('aria-invalid');
      }
      root.classList.toggle('invalid', Boolean(text));
    },
  };
}

export function input(attrs) {
  return h('input', {type: 'text', autocomplete: 'off', ...attrs});
}

// Wire a field's check to typing and leaving: check() -> message|null.
// Returns run(show) for the final check (true when valid).
export function checked(item, check, events = ['input', 'blur', 'change']) {
  const run = () => {
    const message = check();
    item.setError(message);
    return !message;
  };
  for (const name of events) {
    item.control.addEventListener(name, run);
  }
  return run;
}
