// What one visit remembers in sessionStorage (this tab only, gone when it
// closes): the booking being prepared (the draft, with its idempotency
// key) and the promotion code the visit came with.

const DRAFT_KEY = 'zl-h5-draft';
const PROMO_KEY = 'zl-h5-promo';

function read(key) {
  try {
    return JSON.parse(sessionStorage.getItem(key));
  } catch {
    return null;
  }
}

export function draft() {
  return read(DRAFT_KEY);
}

export function saveDraft(value) {
  sessionStorage.setItem(DRAFT_KEY, JSON.stringify(value));
}

export function clearDraft() {
  sessionStorage.removeItem(DRAFT_KEY);
}

// A new booking of the ticket (its detail as the API answered). The
// idempotency key is made later, once, by the confirm screen.
export function newDraft(ticket) {
  const value = {
    ticket: {
      id: ticket.id, name: ticket.name, kind: ticket.kind,
      price: ticket.price, refundable: ticket.refundable,
      per_user_limit: ticket.per_user_limit,
      visitors_max: ticket.visit_rules ? ticket.visit_rules.visitors_max : null,
      group_min: ticket.group_min, group_max: ticket.group_max,
    },
    slot: null,
    visitors: [],
    companions: [],
    contact: {name: '', phone: ''},
    group: {name: '', leader: '', size: ''},
    key: null,
  };
  saveDraft(value);
  return value;
}

// The draft of this ticket, if the visit has one.
export function draftOf(ticketId) {
  const value = draft();
  return value && value.ticket && value.ticket.id === ticketId ? value : null;
}

export function setPromo(value) {
  sessionStorage.setItem(PROMO_KEY, JSON.stringify(
    {scene: value.scene, ticket_id: value.ticket_id}));
}

// The scene of the visit's promotion code when it is for this ticket.
export function promoFor(ticketId) {
  const value = read(PROMO_KEY);
  return value && value.ticket_id === ticketId ? value.scene : null;
}

// '?promo=<scene>' for the ticket's calls, or ''
export function promoQuery(ticketId, extra = {}) {
  const query = new URLSearchParams(extra);
  const scene = promoFor(ticketId);
  if (scene) {
    query.set('promo', scene);
  }
  const text = query.toString();
  return text ? `?${text}` : '';
}
