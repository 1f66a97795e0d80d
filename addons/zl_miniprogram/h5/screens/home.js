// #/ — the published home page: banners, notices, featured tickets.
import {get} from '../api.js';
import {h, icon, uid} from '../dom.js';
import {t} from '../i18n.js';
import {applySite, home} from '../site.js';
import {ticketCard} from './tickets.js';

function banners(list) {
  if (!list || !list.length) {
    return null;
  }
  const slides = list.map((banner) => {
    const image = h('img', {
      src: banner.image_url, alt: banner.caption || '', width: 750,
      height: 400, decoding: 'async'});
    const caption = banner.caption
      ? h('span', {class: 'banner-caption', 'aria-hidden': 'true'},
        banner.caption)
      : null;
    const link = banner.link || {};
    if (link.kind === 'ticket' && link.ticket_id) {
      return h('a', {class: 'banner', href: `#/tickets/${link.ticket_id}`},
        image, caption);
    }
    return h('div', {class: 'banner'}, image, caption);
  });
  if (slides.length === 1) {
    return h('div', {class: 'banners'}, slides);
  }
  // Several: swiped sideways; focusable so a keyboard can scroll it too.
  return h('div', {
    class: 'banners scroller', role: 'region', tabindex: 0,
    'aria-label': t('banners')}, slides);
}

function notices(list) {
  if (!list || !list.length) {
    return null;
  }
  const id = uid('notices');
  return h('section', {class: 'card notices', 'aria-labelledby': id},
    h('h2', {id}, icon('bell'), t('notices')),
    h('ul', {class: 'notice-list'}, list.map((notice) => h('li', {},
      h('p', {class: 'notice-title'}, notice.title),
      notice.content ? h('p', {class: 'notice-content'}, notice.content)
        : null))));
}

export async function homeScreen() {
  const [page, list] = await Promise.all([home(), get('/tickets')]);
  applySite(page);
  const featured = list.tickets.filter((ticket) => ticket.carousel);
  const featuredId = uid('featured');
  return h('div', {class: 'home'},
    h('div', {class: 'hero'},
      h('h1', {}, (page && page.site_name) || t('defaultSiteName'))),
    banners(page && page.banners),
    notices(page && page.notices),
    featured.length ? h('section', {
      class: 'featured', 'aria-labelledby': featuredId},
    h('h2', {id: featuredId, class: 'section-title'}, t('featured')),
    h('ul', {class: 'ticket-list'},
      featured.map((ticket) => h('li', {}, ticketCard(ticket)))))
      : null,
    h('a', {class: 'button secondary block', href: '#/tickets'},
      t('allTickets'), icon('chevron')));
}
