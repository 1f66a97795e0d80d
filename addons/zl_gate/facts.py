# This file is part of zhonglian-ticketing. See README.md for the licence.
"""The facts a gate decision needs, read from the database in a few plain
queries (a scan is the hot path of a busy morning), and the answer a gate
shows.  The rule itself is decision.decide: nothing here decides."""
import datetime as dt
from zoneinfo import ZoneInfo

from sql import Literal
from sql.aggregate import Count, Max

from trytond import backend
from trytond.cache import Cache
from trytond.i18n import gettext
from trytond.pool import Pool
from trytond.tools import sqlite_apply_types
from trytond.transaction import Transaction

from . import answer as answer_
from . import decision


def site_zone():
    pool = Pool()
    Configuration = pool.get('zl.reservation.configuration')
    return ZoneInfo(Configuration.values()['timezone'])


def to_utc(site_time):
    "A naive site time as the naive UTC Tryton stores"
    return site_time.replace(tzinfo=site_zone()).astimezone(
        dt.timezone.utc).replace(tzinfo=None)


def to_site(utc_time):
    if utc_time is None:
        return None
    return utc_time.replace(tzinfo=dt.timezone.utc).astimezone(
        site_zone()).replace(tzinfo=None)


_device_cache = Cache('zl.gate.device.facts', context=False)


def device_facts(device_id):
    """decision.Device of device_id, cached (every scan needs it; a change
    of the device or its tickets clears it: Device.on_modification)"""
    facts = _device_cache.get(device_id)
    if facts is not None:
        return facts
    pool = Pool()
    Device = pool.get('zl.gate.device')
    DeviceTicket = pool.get('zl.gate.device-zl.ticket')
    cursor = Transaction().connection.cursor()
    d, dt_ = Device.__table__(), DeviceTicket.__table__()
    cursor.execute(*d.select(d.direction, d.tolerance_before,
            d.tolerance_after, where=d.id == device_id))
    direction, before, after = cursor.fetchone()
    cursor.execute(*dt_.select(dt_.ticket, where=dt_.device == device_id))
    facts = decision.Device(device_id, direction,
        frozenset(r[0] for r in cursor), before or 0, after or 0)
    _device_cache.set(device_id, facts)
    return facts


def forget_devices():
    _device_cache.clear()


PASS_COLUMNS = [
    'id', 'ticket', 'slot', 'date', 'state', 'uses_left', 'admits',
    'age_band', 'checkin_start', 'checkin_end', 'session', 'ticket_name',
    'usable_scope', 'rescan_count', 'rescan_interval', 'expiry_mode',
    'validity', 'booked_at', 'visitor']


def pass_ids(where):
    "Ids of the passes matching where(pass table)"
    pool = Pool()
    Pass = pool.get('zl.pass')
    p = Pass.__table__()
    cursor = Transaction().connection.cursor()
    cursor.execute(*p.select(p.id, where=where(p), order_by=p.id))
    return [r[0] for r in cursor]


def pass_rows(where, extra=()):
    """Rows (dicts) of the passes matching where(pass table), with what
    the decision and the answer need from their ticket, session,
    booking and visitor"""
    pool = Pool()
    Pass = pool.get('zl.pass')
    Ticket = pool.get('zl.ticket')
    Slot = pool.get('zl.reservation.slot')
    Session = pool.get('zl.reservation.session')
    Booking = pool.get('zl.booking')
    Visitor = pool.get('zl.booking.visitor')
    p, t, sl = Pass.__table__(), Ticket.__table__(), Slot.__table__()
    se, b, v = Session.__table__(), Booking.__table__(), Visitor.__table__()
    columns = PASS_COLUMNS + ['uses'] + list(extra)
    query = (p
        .join(t, condition=t.id == p.ticket)
        .join(sl, condition=sl.id == p.slot)
        .join(se, condition=se.id == sl.session)
        .join(b, condition=b.id == p.booking)
        .join(v, 'LEFT', condition=v.id == p.visitor)
        .select(*(c.as_(n) for c, n in zip([
                        p.id, p.ticket, p.slot, p.date, p.state,
                        p.uses_left, p.admits, p.age_band, se.checkin_start,
                        se.checkin_end, se.name, t.name, t.usable_scope,
                        t.rescan_count, t.rescan_interval, t.expiry_mode,
                        t.validity, b.create_date, v.name, p.uses,
                        *(getattr(p, e) for e in extra)], columns)),
            where=where(p), order_by=p.id))
    if backend.name == 'sqlite':
        sqlite_apply_types(query, [None, None, None, 'DATE', None, None,
                None, None, 'TIME', 'TIME', None, None, None, None, None,
                None, None, 'TIMESTAMP'])
    cursor = Transaction().connection.cursor()
    cursor.execute(*query)
    return [dict(zip(columns, r)) for r in cursor]


def expires_on(row):
    "The last date the ticket's validity allows (None: the visit date)"
    if row['expiry_mode'] != 'after_purchase' or row['validity'] in {
            None, -1}:
        return None
    booked = to_site(row['booked_at']) or dt.datetime.combine(
        row['date'], dt.time())
    return booked.date() + dt.timedelta(days=row['validity'])


def pass_facts(row):
    return (
        decision.Pass(row['id'], row['ticket'], row['slot'], row['date'],
            row['checkin_start'], row['checkin_end'], row['state'],
            row['uses_left'], row['admits'], row['age_band'],
            expires_on(row)),
        decision.Ticket(row['ticket'], row['usable_scope'],
            row['rescan_count'] or 0, row['rescan_interval'] or 0))


def histories(where):
    """{pass id: decision.History} of the passes matching where(pass
    table), from the check-in records: the last entry that spent a use
    (not annulled) and the re-scans since.  Two grouped queries, whatever
    the number of passes (a bundle holds tens of thousands)."""
    pool = Pool()
    Checkin = pool.get('zl.gate.checkin')
    Pass = pool.get('zl.pass')
    c, p = Checkin.__table__(), Pass.__table__()
    cursor = Transaction().connection.cursor()

    def last_entries():
        return c.join(p, condition=p.id == c.pass_).select(
            c.pass_.as_('pass_'), Max(c.scanned_at).as_('last'),
            where=where(p) & (c.consumed == Literal(True))
            & (c.annulled == Literal(False)),
            group_by=[c.pass_])
    query = last_entries()
    if backend.name == 'sqlite':
        sqlite_apply_types(query, [None, 'TIMESTAMP'])
    cursor.execute(*query)
    result = {i: decision.History(to_site(when)) for i, when in cursor}
    if not result:
        return result
    r, last = Checkin.__table__(), last_entries()
    cursor.execute(*r.join(last, condition=last.pass_ == r.pass_).select(
            r.pass_, Count(r.id),
            where=(r.kind == 'rescan') & (r.result == 'ok')
            & (r.scanned_at > last.last),
            group_by=[r.pass_]))
    for pass_id, count in cursor:
        result[pass_id] = result[pass_id]._replace(rescans=count)
    return result


# The answer ----------------------------------------------------------------

def mask_name(name):
    "张三 -> 张*: the gate screen faces the queue"
    if not name:
        return None
    return name[0] + '*' * (len(name) - 1)


def message(code, **variables):
    return gettext('zl_gate.msg_gate_%s' % code, **variables)


def answer(result, scan_id, row=None, uses_left=None, dry_run=False):
    "The answer of doc/gate.md for a Decision (row: the pass, if known)"
    values = answer_.variables(result, row['date'].isoformat(),
        row['session'], row['admits']) if row else answer_.variables(result)
    return answer_.build(result, scan_id,
        lambda code: message(code, **values),
        pass_={
            'id': row['id'],
            'ticket': {'id': row['ticket'], 'name': row['ticket_name']},
            'date': row['date'].isoformat(),
            'slot': {
                'id': row['slot'],
                'session': row['session'],
                'start': row['checkin_start'].isoformat(),
                'end': row['checkin_end'].isoformat(),
                },
            'visitor': mask_name(row['visitor']),
            'admits': row['admits'],
            'uses_left': (row['uses_left'] if uses_left is None
                else uses_left),
            } if row else None,
        dry_run=dry_run)
