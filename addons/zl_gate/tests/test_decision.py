# This file is part of zhonglian-ticketing. See README.md for the licence.
"The gate's decision, rule by rule: no database, no Tryton"
import datetime as dt

import pytest

from trytond.modules.zl_gate import decision
from trytond.modules.zl_reservation import identity

DAY = dt.date(2026, 11, 26)
NEXT_DAY = DAY + dt.timedelta(days=1)
OTHER_GATE = {'tickets': frozenset({2})}
USED = {'state': 'used', 'uses_left': 0}


def at(hour, minute=0, second=0, day=DAY):
    return dt.datetime.combine(day, dt.time(hour, minute, second))


def scan(now=at(9), pass_=(), ticket=(), device=(), history=()):
    """Decide a scan of the 上午场 (08:00-12:00) pass of DAY, single use, at
    an entry gate accepting its ticket, changed by the given overrides;
    pass_=None scans a genuine code of no pass."""
    if pass_ is not None:
        pass_ = decision.Pass(**{
                'id': 10, 'ticket': 1, 'slot': 5, 'date': DAY,
                'checkin_start': dt.time(8), 'checkin_end': dt.time(12),
                'state': 'valid', 'uses_left': 1, **dict(pass_)})
    ticket = decision.Ticket(**{'id': 1, **dict(ticket)})
    device = decision.Device(**{
            'id': 3, 'direction': 'entry', 'tickets': frozenset({1}),
            **dict(device)})
    return decision.decide(
        pass_, ticket, device, decision.History(**dict(history)), now)


# One scan for each reason decide() gives, with only that fault.
REASON_CASES = {
    'unknown': dict(pass_=None),
    'cancelled': dict(pass_={'state': 'cancelled'}),
    'refunded': dict(pass_={'state': 'refunded'}),
    'blocked': dict(pass_={'state': 'blocked'}),
    'wrong_gate': dict(device=OTHER_GATE),
    'wrong_date': dict(now=at(9, day=NEXT_DAY)),
    'too_early': dict(now=at(7)),
    'too_late': dict(now=at(13)),
    'expired': dict(pass_={'state': 'expired'}),
    'already_used': dict(pass_={'uses_left': 0}),
    'rescan_too_soon': dict(
        pass_={'uses_left': 2}, ticket={'rescan_interval': 10},
        history={'last_entry': at(8, 55)}),
    }


def test_invalid_is_decided_first_and_before_decide():
    assert decision.REASONS[0] == 'invalid'
    assert len(set(decision.REASONS)) == len(decision.REASONS)
    with pytest.raises(AssertionError):
        decision.rejected('no_such_reason')


def test_every_reason_has_a_case():
    assert list(REASON_CASES) == list(decision.REASONS[1:])


@pytest.mark.parametrize('reason', REASON_CASES)
def test_reason(reason):
    result = scan(**REASON_CASES[reason])
    assert (result.result, result.reason) == ('rejected', reason)
    assert not result.ok
    assert not result.consume
    assert result.attention == ()


def test_without_fault_ok():
    assert scan() == decision.Decision(
        'ok', consume=True, kind='entry', valid_until=at(12))
    assert scan().ok


@pytest.mark.parametrize('state', decision.REVOKED)
def test_revoked_first(state):
    # Wrong gate, wrong date and used as well: the revocation is said.
    assert scan(
        now=at(7, day=NEXT_DAY), pass_={'state': state, 'uses_left': 0},
        device=OTHER_GATE).reason == state


# Two faults at once, the earlier of the two in REASONS said.
ORDER_CASES = [
    ('cancelled', dict(
            pass_={'state': 'cancelled'}, device=OTHER_GATE, now=at(7))),
    ('blocked', dict(pass_={'state': 'blocked'}, device=OTHER_GATE)),
    ('wrong_gate', dict(device=OTHER_GATE, now=at(9, day=NEXT_DAY))),
    ('wrong_date', dict(now=at(7, day=NEXT_DAY))),
    ('wrong_date', dict(now=at(13, day=DAY - dt.timedelta(days=1)))),
    ('wrong_date', dict(now=at(9, day=NEXT_DAY), pass_=USED)),
    ('too_early', dict(now=at(7), pass_={'state': 'expired'})),
    ('too_early', dict(now=at(7), pass_=USED)),
    ('too_late', dict(now=at(13), pass_={'state': 'expired'})),
    ('expired', dict(pass_={
                'expires_on': DAY - dt.timedelta(days=1), **USED})),
    ('already_used', dict(
            pass_=USED, ticket={'rescan_interval': 10},
            history={'last_entry': at(8, 55)})),
    ]


@pytest.mark.parametrize('expected,case', ORDER_CASES)
def test_order(expected, case):
    assert scan(**case).reason == expected


@pytest.mark.parametrize('before,after,now,reason,valid_from,valid_until', [
        (0, 0, at(8), None, None, at(12)),
        (0, 0, at(7, 59, 59), 'too_early', at(8), at(12)),
        (0, 0, at(12), None, None, at(12)),
        (0, 0, at(12, 0, 1), 'too_late', at(8), at(12)),
        (15, 10, at(7, 45), None, None, at(12, 10)),
        (15, 10, at(7, 44, 59), 'too_early', at(7, 45), at(12, 10)),
        (15, 10, at(12, 10), None, None, at(12, 10)),
        (15, 10, at(12, 10, 1), 'too_late', at(7, 45), at(12, 10)),
        ])
def test_window_edges(before, after, now, reason, valid_from, valid_until):
    result = scan(now=now, device={
            'tolerance_before': before, 'tolerance_after': after})
    assert result.reason == reason
    assert result.consume == (reason is None)
    assert (result.valid_from, result.valid_until) == (
        valid_from, valid_until)


@pytest.mark.parametrize('now', [
        at(9, day=NEXT_DAY), at(23, 59, day=DAY - dt.timedelta(days=3))])
@pytest.mark.parametrize('before,after,valid_from,valid_until', [
        (0, 0, at(8), at(12)),
        (15, 10, at(7, 45), at(12, 10)),
        ])
def test_wrong_date_tells_the_pass_window(
        now, before, after, valid_from, valid_until):
    result = scan(now=now, device={
            'tolerance_before': before, 'tolerance_after': after})
    assert result.reason == 'wrong_date'
    assert (result.valid_from, result.valid_until) == (
        valid_from, valid_until)


def test_site_scope_accepted_at_any_gate():
    assert scan(device=OTHER_GATE).reason == 'wrong_gate'
    result = scan(device=OTHER_GATE, ticket={'usable_scope': 'site'})
    assert result.ok and result.consume


EXIT = {'direction': 'exit'}


@pytest.mark.parametrize('case', [
        dict(),
        dict(pass_=USED),
        dict(pass_={'uses_left': 0}),
        dict(now=at(7)),
        dict(now=at(23)),
        dict(now=at(9, day=NEXT_DAY)),
        dict(pass_={'state': 'expired'}),
        dict(pass_={'expires_on': DAY - dt.timedelta(days=1)}),
        dict(device=OTHER_GATE),
        dict(pass_=USED, ticket={'rescan_interval': 10, 'rescan_count': 1},
            history={'last_entry': at(8, 59)}),
        ], ids=['plain', 'used', 'no_uses', 'early', 'late', 'other_day',
        'expired', 'expires_on', 'other_gate', 'just_entered'])
def test_exit_never_refused_for_time_place_or_uses(case):
    case = dict(case)
    device = {**EXIT, **case.pop('device', {})}
    assert scan(device=device, **case) == decision.Decision(
        'ok', consume=False, kind='exit')


@pytest.mark.parametrize('state', decision.REVOKED)
def test_exit_lets_revoked_out(state):
    # People must be able to leave: a revoked pass is counted, not held.
    result = scan(device=EXIT, pass_={'state': state})
    assert result == decision.Decision('ok', consume=False, kind='exit')


def test_exit_unknown_pass():
    assert scan(device=EXIT, pass_=None).reason == 'unknown'


def test_exit_attention():
    assert scan(device=EXIT, pass_={
            'admits': 4, 'age_band': 'senior'}).attention == (
        'group', 'senior')


@pytest.mark.parametrize('pass_', [USED, {'uses_left': 0},
        {'state': 'used', 'uses_left': 1}, {'uses_left': -1}])
def test_already_used(pass_):
    assert scan(pass_=pass_).reason == 'already_used'


def test_multi_use_consumes_each_use():
    for uses_left in [3, 2, 1]:
        assert scan(pass_={'uses_left': uses_left}).consume
    assert scan(pass_={'uses_left': 0}).reason == 'already_used'


RESCAN = {'rescan_count': 2, 'rescan_interval': 10}


@pytest.mark.parametrize('uses', [USED, {'uses_left': 1}])
@pytest.mark.parametrize('rescans', [0, 1])
@pytest.mark.parametrize('now', [at(9), at(9, 5), at(9, 9, 59)])
def test_rescan_within_interval(uses, rescans, now):
    result = scan(now=now, pass_={'admits': 2, **uses}, ticket=RESCAN,
        history={'last_entry': at(9), 'rescans': rescans})
    assert result == decision.Decision(
        'ok', consume=False, kind='rescan', valid_until=at(12),
        attention=('group',))


def test_rescan_beyond_count_single_use():
    result = scan(now=at(9, 5), pass_=USED, ticket=RESCAN,
        history={'last_entry': at(9), 'rescans': 2})
    assert result.reason == 'already_used'
    assert result.valid_from is None


def test_rescan_beyond_count_uses_left():
    result = scan(now=at(9, 5), pass_={'uses_left': 1}, ticket=RESCAN,
        history={'last_entry': at(9), 'rescans': 2})
    assert result.reason == 'rescan_too_soon'
    assert (result.valid_from, result.valid_until) == (at(9, 10), at(12))


@pytest.mark.parametrize('now', [at(9, 10), at(11)])
def test_rescan_outside_interval(now):
    history = {'last_entry': at(9), 'rescans': 0}
    assert scan(now=now, pass_=USED, ticket=RESCAN,
        history=history).reason == 'already_used'
    result = scan(now=now, pass_={'uses_left': 1}, ticket=RESCAN,
        history=history)
    assert result.ok and result.consume and result.kind == 'entry'


# The last entry may be later than now: another gate's clock is ahead.
@pytest.mark.parametrize('last_entry', [at(9), at(9, 1)])
def test_rescan_interval_zero_disables_rescan(last_entry):
    ticket = {'rescan_count': 2, 'rescan_interval': 0}
    history = {'last_entry': last_entry, 'rescans': 0}
    assert scan(now=at(9, 0, 30), pass_=USED, ticket=ticket,
        history=history).reason == 'already_used'
    result = scan(now=at(9, 0, 30), pass_={'uses_left': 1}, ticket=ticket,
        history=history)
    assert result.ok and result.consume and result.kind == 'entry'


def test_rescan_count_zero_no_rescan():
    ticket = {'rescan_count': 0, 'rescan_interval': 10}
    assert scan(now=at(9, 5), pass_=USED, ticket=ticket,
        history={'last_entry': at(9)}).reason == 'already_used'


def test_rescan_just_after_window_closes():
    result = scan(now=at(12, 0, 10), pass_=USED,
        ticket={'rescan_count': 1, 'rescan_interval': 2},
        history={'last_entry': at(11, 59, 50)})
    assert result.ok and result.kind == 'rescan' and not result.consume


@pytest.mark.parametrize('pass_,attention', [
        ({}, ()),
        ({'admits': 2}, ('group',)),
        ({'age_band': 'child'}, ('child',)),
        ({'age_band': 'senior'}, ('senior',)),
        ({'age_band': 'adult'}, ()),
        ({'admits': 30, 'age_band': 'child'}, ('group', 'child')),
        ])
def test_attention(pass_, attention):
    result = scan(pass_=pass_)
    assert result.ok
    assert result.attention == attention


# The band is fixed at booking by identity.age_band (pass_.age_band).
BIRTH_CASES = [
    (None, DAY, None),
    (DAY, DAY, 'child'),
    (dt.date(2012, 11, 27), DAY, 'child'),  # 13 years 364 days
    (dt.date(2012, 11, 26), DAY, None),  # exactly 14
    (dt.date(1985, 6, 1), DAY, None),
    (dt.date(1966, 11, 26), DAY, None),  # exactly 60
    (dt.date(1966, 11, 25), DAY, None),  # 60 and one day
    (dt.date(1965, 11, 27), DAY, None),  # 60 years 364 days
    (dt.date(1965, 11, 26), DAY, 'senior'),  # exactly 61
    (dt.date(1920, 1, 1), DAY, 'senior'),
    # 29 February: the birthday is 1 March in a common year.
    (dt.date(2012, 2, 29), dt.date(2026, 2, 28), 'child'),
    (dt.date(2012, 2, 29), dt.date(2026, 3, 1), None),
    (dt.date(1964, 2, 29), dt.date(2025, 2, 28), None),
    (dt.date(1964, 2, 29), dt.date(2025, 3, 1), 'senior'),
    (dt.date(2012, 2, 29), dt.date(2024, 2, 29), 'child'),
    (dt.date(1964, 2, 29), dt.date(2024, 2, 29), None),  # exactly 60
    ]


@pytest.mark.parametrize('birth,on_date,band', BIRTH_CASES)
def test_age_band(birth, on_date, band):
    assert identity.age_band(birth, on_date) == band


def test_age_band_thresholds():
    birth = dt.date(1966, 11, 26)  # exactly 60 on DAY
    assert identity.age_band(birth, DAY, senior_over=59) == 'senior'
    assert identity.age_band(birth, DAY, child_under=61) == 'child'


def test_expires_on():
    previous_day = DAY - dt.timedelta(days=1)
    assert scan(pass_={'expires_on': previous_day}).reason == 'expired'
    for expires_on in [DAY, NEXT_DAY]:
        result = scan(pass_={'expires_on': expires_on})
        assert result.ok and result.consume


def test_expires_on_window_past_midnight():
    result = scan(now=at(0, 10, day=NEXT_DAY),
        pass_={'checkin_start': dt.time(20), 'checkin_end': dt.time(23, 30),
            'expires_on': DAY},
        device={'tolerance_after': 45})
    assert result.ok


def test_window_past_midnight():
    # Without an expiry date the tolerance does cross midnight.
    pass_ = {'checkin_start': dt.time(20), 'checkin_end': dt.time(23, 30)}
    device = {'tolerance_after': 45}
    assert scan(now=at(0, 10, day=NEXT_DAY), pass_=pass_,
        device=device).ok
    result = scan(now=at(0, 16, day=NEXT_DAY), pass_=pass_, device=device)
    assert result.reason == 'wrong_date'
    assert result.valid_until == at(0, 15, day=NEXT_DAY)


SERVER_TIME = at(8)
MONO = 5000.0


def clock(received=0, wall=3600, mono=3600, max_drift=120,
        valid_until=SERVER_TIME + dt.timedelta(days=1)):
    """clock_check of a bundle of SERVER_TIME received `received` seconds
    off by the gate's wall clock; since then the wall clock moved `wall`
    and the monotonic clock `mono` seconds."""
    received_at = SERVER_TIME + dt.timedelta(seconds=received)
    return decision.clock_check(SERVER_TIME, received_at, MONO,
        received_at + dt.timedelta(seconds=wall), MONO + mono,
        max_drift, valid_until)


CLOCK_CASES = [
    (dict(), None),
    (dict(wall=0, mono=0), None),
    (dict(received=120), None),
    (dict(received=-120), None),
    (dict(received=121), 'clock_skew'),
    (dict(received=-121), 'clock_skew'),
    (dict(received=300, max_drift=300), None),
    (dict(wall=3600 + 600), 'clock_jumped'),
    (dict(wall=3600 - 600), 'clock_jumped'),
    (dict(wall=3600 + 120), None),
    (dict(wall=3600 + 121), 'clock_jumped'),
    (dict(wall=86400, mono=86400), None),
    (dict(wall=86401, mono=86401), 'bundle_stale'),
    # The monotonic clock is trusted: the server's time is past
    # valid_until although the gate's wall clock is not.
    (dict(received=-100, wall=86350, mono=86410), 'bundle_stale'),
    # The order: skew, then jump, then stale.
    (dict(received=121, wall=86401 + 600, mono=86401), 'clock_skew'),
    (dict(wall=86401 + 600, mono=86401), 'clock_jumped'),
    ]


@pytest.mark.parametrize('case,reason', CLOCK_CASES)
def test_clock_check(case, reason):
    assert clock(**case) == reason


def test_every_clock_reason_has_a_case():
    assert {r for _, r in CLOCK_CASES} - {None} == set(
        decision.CLOCK_REASONS)
