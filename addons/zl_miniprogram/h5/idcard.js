// Identity document and mobile checks as the visitor types: a convenience
// only, the API checks again. Each function mirrors
// addons/zl_reservation/identity.py exactly (a test compares them on
// thousands of numbers), so keep the two in step.

// GB 11643-1999: ISO 7064 MOD 11-2 over the first 17 digits.
const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK_CHARS = '10X98765432';
// First two digits of GB/T 2260 region codes, plus 81/82/83 (residence
// permits of Hong Kong, Macao, Taiwan residents) and 91 (foreigners'
// permanent residence ID card, 2023 format).
const PROVINCES = new Set([
  11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37,
  41, 42, 43, 44, 45, 46, 50, 51, 52, 53, 54, 61, 62, 63, 64, 65,
  71, 81, 82, 83, 91]);

// Python's str.split() whitespace (str.isspace), which is not JS's \s:
// Python adds U+001C-U+001F and U+0085, JS adds U+FEFF.
const SPACE = '\\t\\n\\v\\f\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a'
  + '\\u2028\\u2029\\u202f\\u205f\\u3000';
const WHITESPACE = new RegExp(`[${SPACE}]+`, 'g');
const SPACE_OR_DASH = new RegExp(`[${SPACE}-]`, 'g');

const RESIDENT_ID = /^[0-9]{17}[0-9X]$/;
const PATTERNS = {
  passport: /^[A-Z0-9]{5,17}$/,
  hk_macau_permit: /^[HM][0-9]{8}(?:[0-9]{2})?$/,
  taiwan_permit: /^[0-9]{8}(?:[0-9]{2})?$/,
};
const MOBILE = /^(?:\+?86)?1[3-9][0-9]{9}$/;

function text(value) {
  return value === null || value === undefined ? '' : String(value);
}

// identity.normalize_id: drop all whitespace, uppercase ('x' -> 'X').
export function normalizeId(number) {
  return text(number).replace(WHITESPACE, '').toUpperCase();
}

function checkChar(digits17) {
  let total = 0;
  for (let i = 0; i < 17; i += 1) {
    total += Number(digits17[i]) * WEIGHTS[i];
  }
  return CHECK_CHARS[total % 11];
}

// today: a Date (its local date), a 'YYYY-MM-DD' string, or nothing (now).
function dayNumber(today) {
  if (typeof today === 'string') {
    const [y, m, d] = today.split('-').map(Number);
    return y * 10000 + m * 100 + d;
  }
  const date = today instanceof Date ? today : new Date();
  return date.getFullYear() * 10000 + (date.getMonth() + 1) * 100
    + date.getDate();
}

function isDate(year, month, day) {
  if (year < 1 || month < 1 || month > 12 || day < 1) {
    return false;
  }
  // Day 0 of the next month is the last day of this one; setUTCFullYear
  // takes years below 100 as they are (Date.UTC would add 1900).
  const last = new Date(0);
  last.setUTCFullYear(year, month, 0);
  return day <= last.getUTCDate();
}

// null when valid, 'format' (length, characters, region, birth date) or
// 'checksum' (only the check character is wrong).
export function residentIdError(number, today) {
  const id = normalizeId(number);
  if (!RESIDENT_ID.test(id) || !PROVINCES.has(Number(id.slice(0, 2)))) {
    return 'format';
  }
  const year = Number(id.slice(6, 10));
  const month = Number(id.slice(10, 12));
  const day = Number(id.slice(12, 14));
  if (!isDate(year, month, day)) {
    return 'format';
  }
  const birth = year * 10000 + month * 100 + day;
  if (birth < 19000101 || birth > dayNumber(today)) {
    return 'format';
  }
  return checkChar(id) === id[17] ? null : 'checksum';
}

export function idError(idType, number, today) {
  if (idType === 'resident_id') {
    return residentIdError(number, today);
  }
  const pattern = PATTERNS[idType];
  return pattern && pattern.test(normalizeId(number)) ? null : 'format';
}

// null or 'format' (identity.is_valid_mobile after dropping spaces and
// dashes; +86/86 prefixes allowed).
export function phoneError(phone) {
  return MOBILE.test(text(phone).replace(SPACE_OR_DASH, '')) ? null
    : 'format';
}

// identity.mask_id: keep the first 4 and last 4 characters.
export function maskId(number) {
  const id = text(number);
  if (id.length <= 8) {
    return id.slice(0, 1) + '*'.repeat(Math.max(id.length - 1, 0));
  }
  return id.slice(0, 4) + '*'.repeat(id.length - 8) + id.slice(-4);
}
