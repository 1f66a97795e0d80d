# This file is part of zhonglian-ticketing. See README.md for the licence.
"""Fixed-window request counters (no Tryton import).

Kept in the worker's memory: the visitor API's hot paths must not write
to the database to count, so a limit of N per minute holds per worker
process (doc/visitor-api.md says so to operators)."""
import math
import threading
import time

# Windows start on the minute of the wall clock, the same in every worker.
WINDOW = 60
# Forget the idle counters beyond this many keys.
MAX_KEYS = 100_000


class RateLimiter:

    def __init__(self, window=WINDOW, clock=time.time):
        self.window = window
        self.clock = clock
        self._counts = {}
        self._lock = threading.Lock()

    def hit(self, kind, key, limit):
        """Count one request of key; 0 when allowed, else the seconds to
        wait (for Retry-After).  A limit of 0 or less never refuses."""
        if limit <= 0:
            return 0
        now = self.clock()
        start = now - now % self.window
        with self._lock:
            if len(self._counts) > MAX_KEYS:
                self._counts = {
                    k: v for k, v in self._counts.items() if v[0] == start}
            window, count = self._counts.get((kind, key), (start, 0))
            if window != start:
                window, count = start, 0
            count += 1
            self._counts[(kind, key)] = (window, count)
        if count > limit:
            return max(1, math.ceil(start + self.window - now))
        return 0

    def reset(self):
        with self._lock:
            self._counts.clear()
