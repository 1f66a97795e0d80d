# This file is part of zhonglian-ticketing. See README.md for the licence.
"""Offline: the bundle a gate decides alone with, and the upload of the
scans it decided meanwhile (doc/gate.md "Offline").

The bundle holds public keys only.  For ID cards it holds each pass's
digest under the key of its day (zl.pass.day_digest) and that day's key:
a lost gate exposes one day's digests, which a brute force over the ID
numbers of that day's visitors could invert — never the database-wide
id_digest, nor another day's.
"""
import base64
import datetime as dt

from sql.conditionals import Coalesce

from trytond.modules.zl_reservation import passcode
from trytond.modules.zl_reservation.engine import (
    advisory_lock,
    lock_key,
)
from trytond.modules.zl_reservation.pass_ import REVOKED
from trytond.pool import Pool
from trytond.transaction import Transaction

from . import decision, facts
from .gate import _SCAN_ID, decide_scan, gate_method, parse_time, refusal

FORMAT = 1
MAX_UPLOAD = 1000
# Rows committed while a bundle is read may carry an earlier write date:
# the next incremental bundle looks back this far (merging is idempotent).
OVERLAP = dt.timedelta(seconds=60)
MESSAGES = (
    list(decision.REASONS) + ['entry', 'rescan', 'exit']
    + ['attention_%s' % a for a in ('group', 'child', 'senior')]
    + list(decision.CLOCK_REASONS))


class OfflineService:
    __slots__ = ()

    @classmethod
    @gate_method
    def offline_bundle(cls, device, *args):
        "offline_bundle(since): what the device needs to decide alone"
        if len(args) > 1:
            raise refusal('invalid_request')
        since = args[0] if args else None
        if since is not None:
            if not isinstance(since, str) or len(since) > 40:
                raise refusal('invalid_request')
            try:
                since = dt.datetime.fromisoformat(since)
            except ValueError:
                raise refusal('invalid_request') from None
        cls._seen(device)
        return cls._bundle(device, since)

    @classmethod
    def _bundle(cls, device_id, since):
        pool = Pool()
        Configuration = pool.get('zl.reservation.configuration')
        Pass = pool.get('zl.pass')
        PassKey = pool.get('zl.pass.key')
        Ticket = pool.get('zl.ticket')
        Slot = pool.get('zl.reservation.slot')
        config = Configuration(1)
        cursor_time = dt.datetime.utcnow() - OVERLAP
        now = Configuration.now()
        today, tomorrow = now.date(), now.date() + dt.timedelta(days=1)
        device = cls(device_id)
        accepted = facts.device_facts(device_id)
        tickets = Ticket.search(['OR',
                ('id', 'in', list(accepted.tickets)),
                ('usable_scope', '=', 'site'),
                ])
        ticket_ids = [t.id for t in tickets]
        slots = Slot.search([
                ('date', 'in', [today, tomorrow]),
                ('plan.tickets', 'in', ticket_ids),
                ])

        def changed(p):
            where = p.date.in_([today, tomorrow]) & p.ticket.in_(
                ticket_ids or [-1])
            if since:
                where &= Coalesce(p.write_date, p.create_date) > since
            return where
        rows = facts.pass_rows(changed, extra=['day_digest'])
        history = facts.histories(changed)
        revoked = Pass.search([
                ('date', '>=', today),
                ('state', 'in', list(REVOKED)),
                ] + ([('write_date', '>', since)] if since else []))
        return {
            'format': FORMAT,
            'database': Transaction().database.name,
            'device': {
                'id': device.id, 'code': device.code, 'name': device.name,
                'direction': device.direction,
                'tolerance_before': accepted.tolerance_before,
                'tolerance_after': accepted.tolerance_after,
                'tickets': sorted(accepted.tickets),
                },
            'server_time': now.isoformat(timespec='seconds'),
            'max_drift': config.gate_max_drift,
            'valid_until': (now + dt.timedelta(
                    hours=config.gate_bundle_hours)).isoformat(
                timespec='seconds'),
            'since': cursor_time.isoformat(),
            'full': since is None,
            'keys': {str(k): base64.urlsafe_b64encode(v).decode().rstrip('=')
                for k, v in PassKey.public_keys().items()},
            'tickets': [{
                    'id': t.id, 'name': t.name,
                    'usable_scope': t.usable_scope,
                    'usable_count': t.usable_count,
                    'rescan_count': t.rescan_count,
                    'rescan_interval': t.rescan_interval,
                    } for t in tickets],
            'slots': [{
                    'id': s.id, 'date': s.date.isoformat(),
                    'session': s.session.name,
                    'checkin_start': s.session.checkin_start.isoformat(),
                    'checkin_end': s.session.checkin_end.isoformat(),
                    } for s in slots],
            'passes': [bundle_pass(r, history.get(r['id'], decision.History()))
                for r in rows],
            'revoked': [p.id for p in revoked],
            'revoked_states': {str(p.id): p.state for p in revoked},
            'id_keys': {today.isoformat(): Pass.day_key(today).hex()},
            'messages': {code: facts.message(code) for code in MESSAGES},
            }

    @classmethod
    @gate_method
    def upload_offline(cls, device, *args):
        """upload_offline(scans): store the scans a device decided offline;
        a pass admitted at two gates is a conflict (the first upload wins,
        both are kept); the same scan id twice is stored once"""
        if len(args) != 1 or not isinstance(args[0], list) or len(
                args[0]) > MAX_UPLOAD:
            raise refusal('invalid_request')
        scans = [upload_item(s) for s in args[0]]
        cls._seen(device)
        return decide_scan(cls._upload, device, scans)

    @classmethod
    def _upload(cls, device_id, scans):
        pool = Pool()
        Checkin = pool.get('zl.gate.checkin')
        Pass = pool.get('zl.pass')
        PassKey = pool.get('zl.pass.key')
        device = facts.device_facts(device_id)
        counts = {'stored': 0, 'duplicates': 0, 'conflicts': 0}
        keys = PassKey.public_keys()
        for scan in scans:
            if scan['code'] is not None:  # the code, not what it claims
                try:
                    scan['pass'] = passcode.verify(
                        scan['code'], keys).pass_id
                except passcode.InvalidCode:
                    scan['pass'] = None
        # Every lock of the batch at once, in one order: two gates
        # uploading passes in different orders never deadlock.
        advisory_lock(
            [lock_key('gate-scan', device_id, s['scan_id']) for s in scans]
            + [lock_key('gate-pass', s['pass']) for s in scans
                if s['pass']])
        for scan in scans:
            if Checkin.first_answer(device_id, scan['scan_id']) is not None:
                counts['duplicates'] += 1
                continue
            pass_id = scan['pass']
            rows = (facts.pass_rows(lambda p: p.id == pass_id)
                if pass_id else [])
            row = rows[0] if rows else None
            if row and scan['code'] is None and (
                    row['usable_scope'] != 'site'
                    and row['ticket'] not in device.tickets):
                # An ID-card scan names its pass: only one of this gate's.
                row = None
            result = scan['decision']
            if row is None and result.ok:
                result = decision.rejected('unknown')
            conflict = False
            if result.ok and result.consume and not scan['annulled']:
                if Pass.consume(row['id']) is None:
                    conflict = True
                    counts['conflicts'] += 1
            answer = {'result': result.result, 'reason': result.reason,
                'kind': result.kind if result.ok else None,
                'scan_id': scan['scan_id'], 'offline': True}
            checkin_id = cls._store_checkin(
                device_id, row, result, scan['scan_id'], scan['scanned_at'],
                answer, 'offline', conflict=conflict)
            if scan['annulled']:
                c = Checkin.__table__()
                Transaction().connection.cursor().execute(*c.update(
                        [c.annulled, c.consumed, c.admits],
                        [True, False, 0], where=c.id == checkin_id))
            counts['stored'] += 1
        return counts


def bundle_pass(row, history):
    return {
        'id': row['id'], 'ticket': row['ticket'], 'slot': row['slot'],
        'date': row['date'].isoformat(), 'state': row['state'],
        'uses': row['uses'], 'uses_left': row['uses_left'],
        'admits': row['admits'], 'age_band': row['age_band'],
        'expires_on': (facts.expires_on(row).isoformat()
            if facts.expires_on(row) else None),
        'visitor': facts.mask_name(row['visitor']),
        'last_entry': (history.last_entry.isoformat()
            if history.last_entry else None),
        'rescans': history.rescans,
        'id_digest': row['day_digest'],
        }


def upload_item(scan):
    "A scan of an upload, checked; its decision as a decision.Decision"
    if not isinstance(scan, dict):
        raise refusal('invalid_request')
    scan_id, code, pass_id = (
        scan.get('scan_id'), scan.get('code'), scan.get('pass'))
    result, reason, kind = (
        scan.get('result'), scan.get('reason'), scan.get('kind'))
    annulled = scan.get('annulled', False)
    if (not isinstance(scan_id, str) or not _SCAN_ID.fullmatch(scan_id)
            or (code is not None and (not isinstance(code, str)
                    or len(code) > 256))
            or (pass_id is not None and (isinstance(pass_id, bool)
                    or not isinstance(pass_id, int) or pass_id <= 0))
            # An ok names its pass; a refusal may name none (a forged code
            # the gate did not keep, an ID card without a pass).
            or (result == 'ok' and code is None and pass_id is None)
            or result not in {'ok', 'rejected'}
            or (result == 'ok' and kind not in {'entry', 'rescan', 'exit'})
            or (result == 'rejected' and reason not in decision.REASONS)
            or not isinstance(annulled, bool)):
        raise refusal('invalid_request')
    if result == 'ok':
        made = decision.Decision('ok', consume=kind == 'entry', kind=kind)
    else:
        made = decision.rejected(reason)
    return {
        'scan_id': scan_id, 'code': code, 'pass': pass_id,
        'scanned_at': parse_time(scan.get('scanned_at')),
        'decision': made, 'annulled': annulled,
        }
