# This file is part of zhonglian-ticketing. See README.md for the licence.
"Fixed-window request counters (ratelimit.py, no database)"
from trytond.modules.zl_miniprogram.ratelimit import RateLimiter


class Clock:
    def __init__(self, now):
        self.now = now

    def __call__(self):
        return self.now


def test_limit_then_wait_until_the_next_window():
    clock = Clock(1000.0)  # 40 s into a minute
    limiter = RateLimiter(clock=clock)
    assert [limiter.hit('ip', 'a', 3) for _ in range(3)] == [0, 0, 0]
    assert limiter.hit('ip', 'a', 3) == 20
    clock.now = 1019.5
    assert limiter.hit('ip', 'a', 3) == 1  # never 0 when refused
    clock.now = 1020.0  # the next minute
    assert limiter.hit('ip', 'a', 3) == 0


def test_keys_and_kinds_are_counted_apart():
    limiter = RateLimiter(clock=Clock(0.0))
    assert limiter.hit('ip', 'a', 1) == 0
    assert limiter.hit('ip', 'b', 1) == 0
    assert limiter.hit('token', 'a', 1) == 0
    assert limiter.hit('ip', 'a', 1) > 0


def test_no_limit():
    limiter = RateLimiter(clock=Clock(0.0))
    assert all(limiter.hit('ip', 'a', 0) == 0 for _ in range(1000))


def test_idle_keys_are_forgotten(monkeypatch):
    from trytond.modules.zl_miniprogram import ratelimit
    monkeypatch.setattr(ratelimit, 'MAX_KEYS', 10)
    clock = Clock(0.0)
    limiter = RateLimiter(clock=clock)
    for n in range(11):
        limiter.hit('ip', n, 5)
    clock.now = 60.0
    limiter.hit('ip', 'new', 5)
    limiter.hit('ip', 'newer', 5)
    assert len(limiter._counts) == 2
