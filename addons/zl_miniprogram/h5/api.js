// The visitor API over HTTP, the visitor's session and the WeChat web
// login (Official Account OAuth, snsapi_base). The page holds no rule of
// its own: every answer and refusal is the API's.
import {acceptLanguage} from './i18n.js';

const TOKEN_KEY = 'zl-h5-token';
const STATE_KEY = 'zl-h5-oauth-state';
const RESUME_KEY = 'zl-h5-resume';

export const config = readConfig();

function readConfig() {
  // Outside the server (a file opened by hand) the placeholder is left.
  const fallback = {
    api: location.pathname.replace(/\/h5\/.*$/, '/v1'), oauth: null};
  try {
    const text = document.getElementById('zl-config').textContent;
    return {...fallback, ...JSON.parse(text)};
  } catch {
    return fallback;
  }
}

// status 0: no answer at all (the request may or may not have arrived).
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message || code);
    this.status = status;
    this.code = code;
    this.apiMessage = message || '';
  }

  // No answer, or the server failed or was busy: whatever was asked may
  // or may not have been done.
  get unknownOutcome() {
    return this.status === 0 || this.status >= 500;
  }
}

// The page is leaving for WeChat's login: nothing more to show.
export class LoginPending extends Error {}
// No Official Account is configured: no way to log in.
export class LoginUnavailable extends Error {}
// The login came back with a state this tab did not send.
export class LoginFailed extends Error {}

export function randomKey() {
  if (crypto.randomUUID) {
    return crypto.randomUUID();
  }
  // Not a secure context (plain http away from localhost).
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

export function token() {
  try {
    const saved = JSON.parse(localStorage.getItem(TOKEN_KEY));
    if (saved && saved.token && Date.parse(saved.expires_at) > Date.now()) {
      return saved.token;
    }
  } catch {
    // A damaged entry is no session.
  }
  return null;
}

export function dropToken() {
  localStorage.removeItem(TOKEN_KEY);
}

// The page's address for WeChat to come back to: without the login's
// code and state, and without the hash (WeChat drops fragments; the
// route to resume is kept in sessionStorage instead).
function returnAddress() {
  const url = new URL(location.href);
  url.searchParams.delete('code');
  url.searchParams.delete('state');
  url.hash = '';
  return url.href;
}

// Leave for WeChat's authorisation page; never returns.
export function login() {
  if (!config.oauth) {
    throw new LoginUnavailable();
  }
  const state = randomKey().replaceAll('-', '');
  sessionStorage.setItem(STATE_KEY, state);
  sessionStorage.setItem(RESUME_KEY, location.hash || '#/');
  const query = new URLSearchParams({
    appid: config.oauth.appid,
    redirect_uri: returnAddress(),
    response_type: 'code',
    scope: config.oauth.scope || 'snsapi_base',
    state,
  });
  location.assign(`${config.oauth.authorize}?${query}#wechat_redirect`);
  throw new LoginPending();
}

export function requireLogin() {
  if (!token()) {
    login();
  }
}

// Back from WeChat with ?code=&state=: exchange the code for a session and
// return the route to resume; null when this is not a login's return.
export async function finishLogin() {
  const url = new URL(location.href);
  const code = url.searchParams.get('code');
  if (code === null) {
    return null;
  }
  const state = url.searchParams.get('state');
  const expected = sessionStorage.getItem(STATE_KEY);
  const resume = sessionStorage.getItem(RESUME_KEY) || '#/';
  sessionStorage.removeItem(STATE_KEY);
  url.searchParams.delete('code');
  url.searchParams.delete('state');
  // A reload must never send the same code again.
  history.replaceState(null, '', url.pathname + url.search + resume);
  if (!expected || state !== expected) {
    throw new LoginFailed();
  }
  let data;
  try {
    ({data} = await call('/auth/wechat-oa', {method: 'POST', body: {code}}));
  } catch (error) {
    // WeChat refused the code, or was down: the API says which.
    const failed = new LoginFailed();
    failed.apiMessage = error.apiMessage || '';
    throw failed;
  }
  localStorage.setItem(TOKEN_KEY, JSON.stringify(
    {token: data.token, expires_at: data.expires_at}));
  sessionStorage.removeItem(RESUME_KEY);
  return resume;
}

async function send(path, {method = 'GET', body, auth = false} = {}) {
  const headers = {'Accept-Language': acceptLanguage};
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
  }
  if (auth) {
    const current = token();
    if (!current) {
      login();
    }
    headers.Authorization = `Bearer ${current}`;
  }
  let response;
  try {
    response = await fetch(config.api + path, {
      method, headers, cache: 'no-store',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, 'network', '');
  }
  if (auth && response.status === 401) {
    // Expired or logged out elsewhere: log in again, then come back.
    dropToken();
    login();
  }
  return response;
}

// {status, data} of a JSON call; ApiError for anything but 2xx.
export async function call(path, options) {
  const response = await send(path, options);
  let data = null;
  try {
    data = response.status === 204 ? null : await response.json();
  } catch {
    // Not JSON (a proxy's error page): judged by the status alone.
  }
  if (!response.ok) {
    const error = (data && data.error) || {};
    throw new ApiError(
      response.status, error.code || `http_${response.status}`,
      error.message);
  }
  return {status: response.status, data};
}

export async function get(path, options = {}) {
  return (await call(path, options)).data;
}

// A picture of the visitor's own (a pass's QR code) as a blob: URL; the
// caller revokes it.
export async function imageUrl(path) {
  const response = await send(path, {auth: true});
  if (!response.ok) {
    throw new ApiError(response.status, `http_${response.status}`, '');
  }
  return URL.createObjectURL(await response.blob());
}
