# This file is part of zhonglian-ticketing. See README.md for the licence.
"""The gate's decision: may this pass enter (or leave) here, now?

The one rule for every caller: the online redeem (gate.py) and the offline
verifier (offline.py) gather the facts their own way and call `decide`.
No Tryton import, no database and no clock: facts and `now` (site time,
naive) in, a Decision out, so both paths decide alike and every reason is
tested on its own (tests/test_decision.py).

The reasons are checked in one fixed order, the order a visitor can act
on: a forged code first, then a pass that no longer exists for this visit,
then the wrong place, the wrong day, the wrong time, and last the uses.
"""
import datetime as dt
from typing import NamedTuple

# Reasons a scan is refused, in the order they are checked (doc/gate.md).
REASONS = (
    'invalid',          # unparseable, forged or altered code, unknown key
    'unknown',          # a genuine code of a pass that is not (or no longer)
    'cancelled',
    'refunded',
    'blocked',
    'wrong_gate',       # the ticket is not accepted at this device
    'wrong_date',
    'too_early',
    'too_late',
    'expired',
    'already_used',
    'rescan_too_soon',  # a multi-use pass again within the re-scan interval
    )
REVOKED = ('cancelled', 'refunded', 'blocked')


class Device(NamedTuple):
    id: int
    direction: str              # 'entry' or 'exit'
    tickets: frozenset          # ids of the tickets it accepts (可检门票)
    tolerance_before: int = 0   # minutes before the window it opens
    tolerance_after: int = 0    # minutes after the window it still admits


class Ticket(NamedTuple):
    id: int
    usable_scope: str = 'gates'  # 'site': accepted at every gate
    rescan_count: int = 0        # extra scans accepted after an entry
    rescan_interval: int = 0     # minutes


class Pass(NamedTuple):
    id: int
    ticket: int
    slot: int
    date: dt.date
    checkin_start: dt.time
    checkin_end: dt.time
    state: str                  # valid, used, cancelled, refunded, ...
    uses_left: int
    admits: int = 1
    age_band: str = None        # 'child', 'senior' or None
    expires_on: dt.date = None  # last valid date by the ticket's validity


class History(NamedTuple):
    "What the pass did lately (from check-in records or the gate's file)"
    last_entry: dt.datetime = None  # last admitted entry that used a use
    rescans: int = 0                # scans admitted again since that entry


class Decision(NamedTuple):
    result: str                 # 'ok' or 'rejected'
    reason: str = None          # one of REASONS when rejected
    consume: bool = False       # an ok that uses one use of the pass
    kind: str = 'entry'         # 'entry', 'rescan' or 'exit'
    valid_from: dt.datetime = None
    valid_until: dt.datetime = None
    attention: tuple = ()       # ('group', 'child', 'senior')

    @property
    def ok(self):
        return self.result == 'ok'


def rejected(reason, **kwargs):
    assert reason in REASONS, reason
    return Decision('rejected', reason, **kwargs)


def window(pass_, device):
    "The check-in window of the pass at this device, site time"
    start = dt.datetime.combine(pass_.date, pass_.checkin_start)
    end = dt.datetime.combine(pass_.date, pass_.checkin_end)
    return (start - dt.timedelta(minutes=device.tolerance_before),
        end + dt.timedelta(minutes=device.tolerance_after))


def attention(pass_):
    """Flags for the attendant, never the ID number: a group pass admits
    several people; a child needs a guardian; a senior may take the
    priority lane (the age band is fixed at booking: identity.age_band)"""
    flags = []
    if pass_.admits > 1:
        flags.append('group')
    if pass_.age_band in {'child', 'senior'}:
        flags.append(pass_.age_band)
    return tuple(flags)


def decide(pass_, ticket, device, history, now):
    """Decide a scan of pass_ (None: genuine code, no such pass) at device.

    The code's signature is checked before (invalid never gets here)."""
    if pass_ is None:
        return rejected('unknown')
    flags = attention(pass_)
    if device.direction == 'exit':
        # Leaving is never refused (a revoked pass too: people must be
        # able to get out); it is only counted.
        return Decision('ok', kind='exit', attention=flags)
    if pass_.state in REVOKED:
        return rejected(pass_.state)
    if (ticket.usable_scope != 'site'
            and pass_.ticket not in device.tickets):
        return rejected('wrong_gate')
    start, end = window(pass_, device)
    interval = dt.timedelta(minutes=ticket.rescan_interval)
    recent = bool(history.last_entry is not None and interval
        and dt.timedelta(0) <= now - history.last_entry < interval)
    if recent and history.rescans < ticket.rescan_count:
        # The visitor scanned again right after entering (the turnstile
        # did not turn, a companion's phone): admitted, no use spent —
        # also just after the window closed, since the entry was in it.
        return Decision('ok', kind='rescan', attention=flags,
            valid_until=end)
    if not start <= now <= end:
        if now.date() != pass_.date:
            return rejected('wrong_date', valid_from=start, valid_until=end)
        if now < start:
            return rejected('too_early', valid_from=start, valid_until=end)
        return rejected('too_late', valid_from=start, valid_until=end)
    # The expiry cron waits for the largest gate tolerance (zl_gate's
    # checkin_grace).  The ticket's validity is checked against the
    # visit's date: a session running past midnight is still its day.
    if pass_.state == 'expired' or (
            pass_.expires_on is not None and pass_.date > pass_.expires_on):
        return rejected('expired')
    if pass_.uses_left <= 0 or pass_.state == 'used':
        return rejected('already_used')
    if recent:
        return rejected('rescan_too_soon',
            valid_from=history.last_entry + interval, valid_until=end)
    return Decision('ok', consume=True, attention=flags, valid_until=end)


# Why an offline gate refuses to decide at all (it then keeps the
# turnstile closed and says so): doc/gate.md "Offline".
CLOCK_REASONS = ('clock_skew', 'clock_jumped', 'bundle_stale')


def clock_check(server_time, received_at, received_mono, now, now_mono,
        max_drift, valid_until):
    """None when an offline gate may trust its clock, else the reason.

    server_time: the bundle's server time; received_at / received_mono:
    the gate's wall clock and monotonic clock (seconds) when the bundle
    arrived; now / now_mono: the same clocks at the scan.  The gate's wall
    clock must have agreed with the server's at arrival (clock_skew) and
    must have moved with the monotonic clock since (clock_jumped: someone
    set the time); a bundle past valid_until holds stale revocations."""
    drift = dt.timedelta(seconds=max_drift)
    if abs(received_at - server_time) > drift:
        return 'clock_skew'
    elapsed = now - received_at
    if abs(elapsed.total_seconds() - (now_mono - received_mono)) > max_drift:
        return 'clock_jumped'
    # The server's time now, as the monotonic clock tells it
    if server_time + dt.timedelta(seconds=now_mono - received_mono) > (
            valid_until):
        return 'bundle_stale'
    return None
