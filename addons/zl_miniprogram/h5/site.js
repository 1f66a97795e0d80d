// The published home page's settings every screen shows: the site's name
// (header, document title) and theme colour, with text colours computed
// to keep a contrast of at least 4.5:1.
import {ApiError, get} from './api.js';
import {t} from './i18n.js';
import {site} from './router.js';

let cached = null;

// GET /home once per visit (again after a failure); null before staff
// publish a home page (404 home_not_published).
export function home() {
  if (!cached) {
    cached = get('/home').catch((error) => {
      if (error instanceof ApiError && error.code === 'home_not_published') {
        return null;
      }
      // Asked again next time.
      cached = null;
      throw error;
    });
  }
  return cached;
}

export function applySite(data) {
  site.name = (data && data.site_name) || t('defaultSiteName');
  for (const node of document.querySelectorAll('[data-site-name]')) {
    node.textContent = site.name;
  }
  if (data && data.theme_color) {
    applyTheme(data.theme_color);
  }
}

function parse(color) {
  const match = /^#?([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(color.trim());
  if (!match) {
    return null;
  }
  let hex = match[1];
  if (hex.length === 3) {
    hex = [...hex].map((c) => c + c).join('');
  }
  return [0, 2, 4].map((i) => parseInt(hex.slice(i, i + 2), 16));
}

// WCAG 2 relative luminance and contrast ratio.
function luminance(rgb) {
  const [r, g, b] = rgb.map((value) => {
    const c = value / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

function contrast(a, b) {
  const [light, dark] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (light + 0.05) / (dark + 0.05);
}

function mix(rgb, other, share) {
  return rgb.map((c, i) => Math.round(c * (1 - share) + other[i] * share));
}

function css(rgb) {
  return `rgb(${rgb.join(' ')})`;
}

const WHITE = [255, 255, 255];
const BLACK = [0, 0, 0];
const PAGE = [245, 246, 247];

function applyTheme(color) {
  const theme = parse(color);
  if (!theme) {
    return;
  }
  const style = document.documentElement.style;
  // Text on the theme colour: white or black, whichever reads better
  // (one of them always reaches 4.5:1).
  const on = contrast(theme, WHITE) >= contrast(theme, BLACK) ? WHITE : BLACK;
  // A pale tint of the theme for selected chips and badges.
  const soft = mix(theme, WHITE, 0.9);
  // The theme as text (prices, links) on white, the page and the tint:
  // darkened until it reads at 4.5:1 on all three.
  let text = theme;
  for (let step = 0; step < 20 && Math.min(contrast(text, WHITE),
    contrast(text, PAGE), contrast(text, soft)) < 4.6; step += 1) {
    text = mix(text, BLACK, 0.12);
  }
  style.setProperty('--theme', css(theme));
  style.setProperty('--on-theme', css(on));
  style.setProperty('--theme-soft', css(soft));
  style.setProperty('--theme-text', css(text));
  const meta = document.querySelector('meta[name="theme-color"]');
  if (meta) {
    meta.content = css(theme);
  }
}
