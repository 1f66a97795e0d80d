# This file is part of zhonglian-ticketing. See README.md for the licence.
"""The gate's JSON-RPC methods on zl.gate.device: redeem and annul (online;
offline_bundle and upload_offline are in bundle.py).

A device calls them with its own account (doc/gate.md).  Each scan is one
decision in a READ COMMITTED transaction (the RPC's own, see gate_method;
else engine.decide's): an advisory lock on the pass serialises the gates
scanning it, the facts are
read after the lock, decision.decide rules, and the use is spent by the
pass's conditional update (zl.pass.consume) — so eight gates scanning one
single-use pass at once admit it once.  Every scan is recorded with its
answer, which the same scan id gets back unchanged.
"""
import datetime as dt
import functools
import json
import re
import time
import uuid

from trytond.i18n import gettext
from trytond.modules.zl_reservation import identity, passcode
from trytond.modules.zl_reservation.engine import (
    ReturnError,
    advisory_lock,
    decide,
    insert_rows,
    lock_key,
    read_committed,
)
from trytond.pool import Pool
from trytond.transaction import Transaction, without_check_access

from . import decision, facts
from .exceptions import GateError

MAX_CODE = 256
# (database, device id): when this process last wrote the device's
# last_seen (monotonic seconds); saves a write per scan.
_SEEN = {}
_SCAN_ID = re.compile(r'[A-Za-z0-9_.:-]{1,64}')
# How far a device's scanned_at may be from the server's clock online.
MAX_SCAN_SKEW = dt.timedelta(minutes=10)


def refusal(code, **kwargs):
    return GateError(code, gettext('zl_gate.msg_%s' % code, **kwargs))


def gate_method(func):
    """A gate RPC: only an active device's account may call it; a coded
    refusal answers {'error': {'code', 'message'}} after rolling back,
    never a traceback.

    On PostgreSQL the RPC's own transaction, still idle when the method
    starts, is turned READ COMMITTED and decides (see the module's
    docstring): one transaction and one connection per scan instead of
    two.  Tryton sets the level again on every connection it hands out."""
    @functools.wraps(func)
    def wrapper(cls, *args):
        transaction = Transaction()
        here = read_committed(transaction)
        try:
            device = cls.calling_device()
            if device is None:
                raise refusal('forbidden')
            with without_check_access(), \
                    transaction.set_context(_zl_gate_here=here):
                return func(cls, device, *args)
        except GateError as error:
            raise ReturnError(error.code, error.message)
    return wrapper


def decide_scan(func, *args):
    "Run a gate decision in the RPC's transaction when it could, else alone"
    if Transaction().context.get('_zl_gate_here'):
        return func(*args)
    return decide(func, *args)


def scan_options(scan):
    "(scan_id, scanned_at or None, dry_run) of a client's scan dict"
    if scan is None:
        scan = {}
    if not isinstance(scan, dict):
        raise refusal('invalid_request')
    scan_id = scan.get('scan_id')
    if scan_id is None:
        scan_id = uuid.uuid4().hex
    if not isinstance(scan_id, str) or not _SCAN_ID.fullmatch(scan_id):
        raise refusal('invalid_request')
    dry_run = scan.get('dry_run', False)
    if not isinstance(dry_run, bool):
        raise refusal('invalid_request')
    scanned_at = scan.get('scanned_at')
    if scanned_at is not None:
        scanned_at = parse_time(scanned_at)
    app_version = scan.get('app_version')
    if app_version is not None and (not isinstance(app_version, str)
            or not _SCAN_ID.fullmatch(app_version)):
        raise refusal('invalid_request')
    return scan_id, scanned_at, dry_run, app_version


def parse_time(value):
    "A site time sent as ISO 8601 (naive, or aware and converted)"
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, str) and len(value) <= 40:
        try:
            moment = dt.datetime.fromisoformat(value)
        except ValueError:
            raise refusal('invalid_request') from None
    else:
        raise refusal('invalid_request')
    if moment.tzinfo is not None:
        moment = moment.astimezone(facts.site_zone()).replace(tzinfo=None)
    return moment


def is_id_number(text):
    "An ID card read instead of a QR code"
    return identity.is_valid_id('resident_id', text)


class GateService:
    __slots__ = ()

    @classmethod
    @gate_method
    def redeem(cls, device, *args):
        """redeem(code, scan): decide a scan at the calling device and,
        when admitted (and not a dry run), spend one use"""
        if len(args) not in {1, 2}:
            raise refusal('invalid_request')
        code = args[0]
        scan_id, scanned_at, dry_run, app_version = scan_options(
            args[1] if len(args) == 2 else None)
        if not isinstance(code, str):
            raise refusal('invalid_request')
        pool = Pool()
        Configuration = pool.get('zl.reservation.configuration')
        now = Configuration.now()
        if scanned_at and abs(scanned_at - now) > MAX_SCAN_SKEW:
            raise refusal('clock_skew', server_time=now.isoformat(
                    timespec='seconds'))
        if app_version:
            cls._seen(device, app_version)
        return decide_scan(
            cls._redeem, device, code, scan_id, dry_run, now)

    @classmethod
    def _redeem(cls, device_id, code, scan_id, dry_run, now):
        pool = Pool()
        Checkin = pool.get('zl.gate.checkin')
        found, ids, payload = cls._find(code, now)
        # One statement takes the scan's lock (the same scan id twice) and
        # the passes' (one gate at a time per pass: the facts read below
        # are the last committed ones, READ COMMITTED, and stay so until
        # the commit).
        advisory_lock([lock_key('gate-pass', i) for i in ids]
            + ([] if dry_run else [lock_key('gate-scan', device_id, scan_id)]))
        if not dry_run:
            known = Checkin.first_answer(device_id, scan_id)
            if known is not None:
                return known
        if found is None:
            found = cls._scan(device_id, ids, payload, now, dry_run)
        result, row, uses_left = found
        answer = facts.answer(result, scan_id, row, uses_left,
            dry_run=dry_run)
        if not dry_run:
            cls._store_checkin(device_id, row, result, scan_id, now, answer,
                'online')
        cls._seen(device_id)
        return answer

    @classmethod
    def _find(cls, code, now):
        """(a decision already known or None, the ids of the passes the
        code or ID number stands for, the code's payload)"""
        pool = Pool()
        PassKey = pool.get('zl.pass.key')
        Configuration = pool.get('zl.reservation.configuration')
        if len(code) > MAX_CODE:
            return (decision.rejected('invalid'), None, None), [], None
        code = code.strip()
        if is_id_number(code):
            digest = identity.id_digest(
                Configuration.get_id_secret(), 'resident_id', code)
            ids = facts.pass_ids(
                lambda p: (p.id_digest == digest) & (p.date == now.date()))
            payload = None
        else:
            try:
                payload = passcode.verify(code, PassKey.public_keys())
            except passcode.InvalidCode:
                return (decision.rejected('invalid'), None, None), [], None
            ids = [payload.pass_id]
        if not ids:
            return (decision.rejected('unknown'), None, None), [], None
        return None, ids, payload

    @classmethod
    def _scan(cls, device_id, ids, payload, now, dry_run):
        "(Decision, pass row or None, uses left after it)"
        pool = Pool()
        Pass = pool.get('zl.pass')
        rows = facts.pass_rows(lambda p: p.id.in_(ids))
        if not rows:
            return decision.rejected('unknown'), None, None
        if payload and (rows[0]['ticket'], rows[0]['slot'],
                rows[0]['date']) != (
                payload.ticket_id, payload.slot_id, payload.date):
            # Genuine but not this pass's facts (zl.pass.from_code).
            return decision.rejected('invalid'), None, None
        device = facts.device_facts(device_id)
        # Only a re-scan interval makes the history matter.
        rescanned = [r['id'] for r in rows if r['rescan_interval']]
        history = facts.histories(
            lambda p: p.id.in_(rescanned)) if rescanned else {}
        decided = []
        for row in rows:
            pass_, ticket = facts.pass_facts(row)
            result = decision.decide(pass_, ticket, device,
                history.get(row['id'], decision.History()), now)
            if result.ok:
                uses_left = row['uses_left']
                if result.consume and not dry_run:
                    uses_left = Pass.consume(row['id'])
                    if uses_left is None:  # guarded by the lock; never
                        result = decision.rejected('already_used')
                        decided.append((result, row, row['uses_left']))
                        continue
                elif result.consume:
                    uses_left -= 1
                return result, row, uses_left
            decided.append((result, row, row['uses_left']))
        # Several passes of one ID today (ID card): the refusal closest to
        # passing tells the visitor most.
        return max(decided,
            key=lambda d: decision.REASONS.index(d[0].reason))

    @classmethod
    def _store_checkin(cls, device_id, row, result, scan_id, when, answer,
            mode, conflict=False):
        pool = Pool()
        Checkin = pool.get('zl.gate.checkin')
        c = Checkin.__table__()
        user = Transaction().user
        consumed = result.ok and result.consume
        admits = row['admits'] if row and result.ok else 0
        [checkin_id] = insert_rows(c, [
                c.device, c.pass_, c.ticket, c.slot, c.date, c.scanned_at,
                c.kind, c.result, c.reason, c.admits, c.consumed, c.scan_id,
                c.mode, c.annulled, c.conflict, c.answer, c.create_uid,
                c.create_date], [[
                    device_id, row and row['id'], row and row['ticket'],
                    row and row['slot'], when.date(),
                    # Whole seconds: sao's date-time widgets drop the
                    # rest, and would then take the record as changed.
                    facts.to_utc(when).replace(microsecond=0),
                    result.kind if result.ok else None, result.result,
                    result.reason, admits, consumed, scan_id, mode, False,
                    conflict, json.dumps(answer, ensure_ascii=False), user,
                    dt.datetime.utcnow()]])
        return checkin_id

    @classmethod
    def _seen(cls, device_id, app_version=None):
        """Last seen, written at most once a minute (the device's own
        row), and the version of the gate's software when it says it"""
        moment = time.monotonic()
        key = (Transaction().database.name, device_id)
        if not app_version and moment - _SEEN.get(key, -1e9) < 60:
            return  # this process wrote it less than a minute ago
        _SEEN[key] = moment
        cursor = Transaction().connection.cursor()
        d = cls.__table__()
        now = dt.datetime.utcnow().replace(microsecond=0)
        if app_version:
            cursor.execute(*d.update([d.app_version], [app_version],
                    where=(d.id == device_id)
                    & ((d.app_version == None)  # noqa: E711
                        | (d.app_version != app_version))))
        cursor.execute(*d.update([d.last_seen], [now],
                where=(d.id == device_id) & (
                    (d.last_seen == None)  # noqa: E711
                    | (d.last_seen < now - dt.timedelta(minutes=1)))))

    @classmethod
    @gate_method
    def annul(cls, device, *args):
        """annul(scan_id): the turnstile did not turn after an ok; within
        the configured window the entry is annulled and the use given
        back"""
        if len(args) != 1 or not isinstance(args[0], str):
            raise refusal('invalid_request')
        return decide_scan(cls._annul, device, args[0])

    @classmethod
    def _annul(cls, device_id, scan_id):
        pool = Pool()
        Checkin = pool.get('zl.gate.checkin')
        Pass = pool.get('zl.pass')
        Configuration = pool.get('zl.reservation.configuration')
        advisory_lock([lock_key('gate-scan', device_id, scan_id)])
        checkins = Checkin.search([
                ('device', '=', device_id),
                ('scan_id', '=', scan_id),
                ], limit=1)
        if not checkins:
            raise refusal('unknown_scan')
        checkin, = checkins
        if checkin.annulled:
            return {'annulled': True, 'scan_id': scan_id,
                'uses_left': checkin.pass_.uses_left}
        if checkin.result != 'ok' or not checkin.consumed:
            raise refusal('not_annullable')
        window = dt.timedelta(
            seconds=Configuration(1).gate_annul_window or 0)
        if dt.datetime.utcnow() - checkin.scanned_at > window:
            raise refusal('annul_too_late',
                seconds=int(window.total_seconds()))
        advisory_lock([lock_key('gate-pass', checkin.pass_.id)])
        Pass.give_back_use(checkin.pass_.id)
        c = Checkin.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*c.update([c.annulled, c.admits], [True, 0],
                where=c.id == checkin.id))
        return {'annulled': True, 'scan_id': scan_id,
            'uses_left': Pass(checkin.pass_.id).uses_left}
