# This file is part of zhonglian-ticketing. See README.md for the licence.
"""The offline verifier: a gate that lost the server decides from its last
bundle (doc/gate.md "Offline", the contract in zl.gate.device.offline_bundle).

No Pool, no Transaction, no database server: the facts come from the
bundle and the gate's own scans (store.py), the rule is decision.decide,
exactly as online.  An ID number is digested with the day keys and then
forgotten: it is never stored, answered or logged."""
import base64
import collections
import datetime as dt
import time
import uuid

from trytond.modules.zl_gate import answer, decision
from trytond.modules.zl_gate.store import Store
from trytond.modules.zl_reservation import identity, passcode

FORMAT = 1
# Replaced whole by an incremental bundle (passes and revoked are merged).
_REPLACED = ('format', 'database', 'device', 'server_time', 'max_drift',
    'valid_until', 'since', 'keys', 'tickets', 'slots', 'id_keys',
    'messages')


def _datetime(value):
    return dt.datetime.fromisoformat(value) if value else None


def _date(value):
    return dt.date.fromisoformat(value) if value else None


def merge(previous, bundle):
    """The bundle a gate holds after receiving bundle: a full one replaces
    the previous, an incremental one is merged into it"""
    if bundle.get('format') != FORMAT:
        raise ValueError('unknown bundle format %r' % bundle.get('format'))
    if bundle.get('full'):
        merged = dict(bundle)
    else:
        if previous is None:
            raise ValueError('an incremental bundle needs a full one first')
        if previous.get('database') != bundle.get('database'):
            raise ValueError('the bundle is of another database')
        if _datetime(bundle['server_time']) < _datetime(
                previous['server_time']):
            raise ValueError('the bundle is older than the one held')
        merged = dict(previous)
        merged.update({k: bundle[k] for k in _REPLACED if k in bundle})
        passes = {p['id']: p for p in previous.get('passes', [])}
        revoked = set(previous.get('revoked', []))
        new_revoked = set(bundle.get('revoked', []))
        for pass_ in bundle.get('passes', []):
            passes[pass_['id']] = pass_
            if (pass_['state'] not in decision.REVOKED
                    and pass_['id'] not in new_revoked):
                # A newer state than the revocation (a pass unblocked).
                revoked.discard(pass_['id'])
        merged['passes'] = list(passes.values())
        merged['revoked'] = sorted(revoked | new_revoked)
    merged['full'] = True
    # Passes of slots the server no longer sends (yesterday's) are of no
    # use and would only grow the file.
    slots = {s['id'] for s in merged.get('slots', [])}
    merged['passes'] = [
        p for p in merged.get('passes', []) if p['slot'] in slots]
    return merged


class _Index:
    "A bundle, parsed once for the scans that follow"

    def __init__(self, bundle, received_at, received_mono, generation):
        self.bundle = bundle
        self.received_at = _datetime(received_at)
        self.received_mono = received_mono
        self.generation = generation
        self.server_time = _datetime(bundle['server_time'])
        self.valid_until = _datetime(bundle['valid_until'])
        self.keys = {int(k): base64.urlsafe_b64decode(v + '=' * (-len(v) % 4))
            for k, v in bundle.get('keys', {}).items()}
        self.tickets = {t['id']: t for t in bundle.get('tickets', [])}
        self.slots = {s['id']: s for s in bundle.get('slots', [])}
        self.passes = {p['id']: p for p in bundle.get('passes', [])}
        self.revoked = frozenset(bundle.get('revoked', []))
        self.revoked_states = {int(k): v
            for k, v in bundle.get('revoked_states', {}).items()}
        self.id_keys = {_date(d): bytes.fromhex(k)
            for d, k in bundle.get('id_keys', {}).items()}
        self.messages = bundle.get('messages', {})
        d = bundle['device']
        self.device = decision.Device(d['id'], d['direction'],
            frozenset(d.get('tickets', [])), d.get('tolerance_before') or 0,
            d.get('tolerance_after') or 0)


class OfflineGate:

    def __init__(self, path):
        self.store = Store(path)
        self._index = None

    def close(self):
        self.store.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # The bundle --------------------------------------------------------

    def load_bundle(self, bundle, received_at=None, received_mono=None):
        """Take the bundle the server just answered; received_at and
        received_mono: the gate's wall and monotonic clocks at arrival"""
        if received_at is None:
            received_at = dt.datetime.now()
        if received_mono is None:
            received_mono = time.monotonic()
        with self.store.transaction() as cursor:
            held = self.store.bundle()
            merged = merge(held[0] if held else None, bundle)
            self.store.put_bundle(
                cursor, merged, received_at.isoformat(), received_mono)
            today = _datetime(merged['server_time']).date()
            self.store.prune(
                cursor, (today - dt.timedelta(days=1)).isoformat())
        self._index = None
        return merged

    @property
    def bundle(self):
        held = self.store.bundle()
        return held[0] if held else None

    @property
    def since(self):
        "The cursor to ask the next (incremental) bundle with"
        bundle = self.bundle
        return bundle.get('since') if bundle else None

    def _current(self):
        generation = self.store.generation()
        if not generation:
            return None
        if self._index is None or self._index.generation != generation:
            self._index = _Index(*self.store.bundle())
        return self._index

    # The scan ----------------------------------------------------------

    def scan(self, text, scan_id=None, now=None, now_mono=None,
            dry_run=False):
        """Decide a QR code or a resident ID number read at the gate and
        answer as the server would (offline: true)"""
        scan_id = scan_id or str(uuid.uuid4())
        if now is None:
            now = dt.datetime.now()
        if now_mono is None:
            now_mono = time.monotonic()
        text = text.strip() if isinstance(text, str) else ''
        with self.store.transaction() as cursor:
            known = self.store.answer(scan_id, cursor)
            if known is not None:
                # A retried scan gets its first answer and spends nothing.
                return known
            index = self._current()
            reason = index and decision.clock_check(
                index.server_time, index.received_at, index.received_mono,
                now, now_mono, index.bundle['max_drift'], index.valid_until)
            if index is None or reason:
                # The gate refuses to decide (and keeps nothing: with a
                # wrong clock its scan time means nothing either).
                reason = reason or 'bundle_stale'
                messages = index.messages if index else {}
                return _answer(messages, decision.Decision(
                        'rejected', reason), scan_id, dry_run,
                    message=messages.get(reason, reason))
            if identity.is_valid_id('resident_id', text):
                result, facts = self._by_id_number(cursor, index, text, now)
                code = None
            else:
                result, facts = self._by_code(cursor, index, text, now)
                code = text if _code_shaped(text) else None
            answer = _answer(index.messages, result, scan_id, dry_run,
                facts=facts, consume=result.consume and not dry_run)
            if not dry_run:
                # A forged code's pass id is not kept: nobody vouches
                # for it.
                self.store.add_scan(cursor, answer, now.isoformat(),
                    facts['pass']['id'] if facts else None, code,
                    result.consume)
            return answer

    def _by_code(self, cursor, index, code, now):
        try:
            payload = passcode.verify(code, index.keys)
        except passcode.InvalidCode:
            return decision.rejected('invalid'), None
        pass_ = index.passes.get(payload.pass_id)
        if pass_ is None:
            # Booked after the bundle was made: the signed code holds the
            # facts, the bundle its slot and ticket.
            ticket = index.tickets.get(payload.ticket_id, {})
            pass_ = {'id': payload.pass_id, 'ticket': payload.ticket_id,
                'slot': payload.slot_id, 'date': payload.date.isoformat(),
                'state': 'valid', 'uses_left': ticket.get('usable_count', 1),
                'admits': 1, 'visitor': None}
        elif (pass_['ticket'], pass_['slot'], _date(pass_['date'])) != (
                payload.ticket_id, payload.slot_id, payload.date):
            # A genuine but superseded code: the server refuses it alike
            # (zl.pass.from_code).
            return decision.rejected('invalid'), None
        return self._decide(cursor, index, pass_, now)

    def _by_id_number(self, cursor, index, number, now):
        """The first ok among today's passes of that ID number, else the
        refusal that went furthest (latest in decision.REASONS)"""
        digests = {day: identity.id_digest(key, 'resident_id', number)
            for day, key in index.id_keys.items() if day == now.date()}
        passes = sorted((p for p in index.passes.values()
                if p.get('id_digest')
                and digests.get(_date(p['date'])) == p['id_digest']),
            key=lambda p: (
                index.slots.get(p['slot'], {}).get('checkin_start', ''),
                p['id']))
        refusals = []
        for pass_ in passes:
            result, facts = self._decide(cursor, index, pass_, now)
            if result.ok:
                return result, facts
            refusals.append((result, facts))
        if not refusals:
            return decision.rejected('unknown'), None
        return max(refusals,
            key=lambda r: decision.REASONS.index(r[0].reason))

    def _decide(self, cursor, index, pass_, now):
        "decision.decide on the bundle's facts and the gate's own scans"
        slot = index.slots.get(pass_['slot'])
        date = _date(pass_['date'])
        ticket = index.tickets.get(pass_['ticket'], {})
        state = pass_['state']
        if pass_['id'] in index.revoked and state not in decision.REVOKED:
            state = index.revoked_states.get(pass_['id'], 'cancelled')
        if slot is None:
            # A pass the bundle does not hold: of a ticket this gate does
            # not accept, or of another day.  Decide what can be known,
            # in the decision's order.
            device = index.device
            if device.direction == 'exit':
                return decision.Decision('ok', kind='exit'), None
            if state in decision.REVOKED:
                return decision.rejected(state), None
            if (ticket.get('usable_scope') != 'site'
                    and pass_['ticket'] not in device.tickets):
                return decision.rejected('wrong_gate'), None
            reason = 'wrong_date' if date != now.date() else 'unknown'
            return decision.rejected(reason), None
        uses_left = pass_['uses_left'] - self.store.spent(
            cursor, pass_['id'], index.generation)
        facts = decision.Pass(pass_['id'], pass_['ticket'], pass_['slot'],
            date, dt.time.fromisoformat(slot['checkin_start']),
            dt.time.fromisoformat(slot['checkin_end']), state, uses_left,
            pass_.get('admits') or 1, pass_.get('age_band'),
            _date(pass_.get('expires_on')))
        result = decision.decide(facts,
            decision.Ticket(pass_['ticket'],
                ticket.get('usable_scope', 'gates'),
                ticket.get('rescan_count') or 0,
                ticket.get('rescan_interval') or 0),
            index.device, self._history(cursor, pass_), now)
        return result, {'pass': pass_, 'slot': slot, 'ticket': ticket,
            'uses_left': uses_left}

    def _history(self, cursor, pass_):
        "The newer of the bundle's history and the gate's own scans"
        bundle_last = _datetime(pass_.get('last_entry'))
        bundle_rescans = pass_.get('rescans') or 0
        local_last, local_rescans = self.store.history(cursor, pass_['id'])
        local_last = _datetime(local_last)
        if local_last is not None and (
                bundle_last is None or local_last > bundle_last):
            return decision.History(local_last, local_rescans)
        if local_last is not None and local_last == bundle_last:
            bundle_rescans = max(bundle_rescans, local_rescans)
        return decision.History(bundle_last, bundle_rescans)

    # After the scan ----------------------------------------------------

    def annul(self, scan_id):
        """Give back the use of a consumed ok scan (the turnstile did not
        turn); False when scan_id is not such a scan"""
        return self.store.annul(scan_id)

    def pending(self):
        "The scans to upload (zl.gate.device.upload_offline)"
        return self.store.pending()

    def mark_uploaded(self, scan_ids):
        self.store.mark_uploaded(scan_ids)


def _code_shaped(text):
    """Whether text may be kept as a code: a pass code's shape is never an
    ID number (what a scanner read may be a mistyped one)"""
    return (len(text) == passcode.CODE_LENGTH
        and text.startswith(passcode.PREFIX))


def _answer(messages, result, scan_id, dry_run, facts=None, consume=False,
        message=None):
    "The answer of the contract, with the bundle's message templates"
    pass_ = facts['pass'] if facts else None
    slot = facts['slot'] if facts else {}
    variables = collections.defaultdict(str, answer.variables(result,
            pass_['date'] if pass_ else '', slot.get('session', ''),
            (pass_.get('admits') or 1) if pass_ else 1))

    def text(key):
        if key == result.reason and message is not None:
            return message
        default = messages.get('ok', '') if result.ok else result.reason
        template = messages.get(key, default if key in {
                result.kind, result.reason} else '')
        try:
            return template % variables
        except (TypeError, ValueError):  # a template without a mapping
            return template
    return answer.build(result, scan_id, text, pass_={
            'id': pass_['id'],
            'ticket': {'id': pass_['ticket'],
                'name': facts['ticket'].get('name')},
            'date': pass_['date'],
            'slot': {'id': slot['id'], 'session': slot.get('session'),
                'start': slot['checkin_start'], 'end': slot['checkin_end']},
            'visitor': pass_.get('visitor'),
            'admits': pass_.get('admits') or 1,
            'uses_left': facts['uses_left'] - bool(consume),
            } if pass_ else None, offline=True, dry_run=dry_run)
