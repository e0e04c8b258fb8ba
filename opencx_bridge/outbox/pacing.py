"""One rate budget for every Freshchat call, shared by all threads and processes.

A token bucket kept in the database and spent with a single conditional UPDATE, so two
bridge processes on one database never spend the same token. To never exceed N calls in
any window (which is what Freshchat counts), the bucket holds a small burst B and refills
at (N - B) per window: B + (N - B) = N calls at most in any window of that length. B is
N/30 (at least 1), so a backlog uses over 95 % of every window.

Inside a process, callers wait in order (PriorityGate): the smallest key gets the next
token, so a customer's reply is not queued behind reads that can wait.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable

from sqlalchemy import case, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from opencx_bridge.store.models import RateBucket

BUCKET = "freshchat"
STOP_CHECK_SECONDS = 1.0  # a waiting caller notices the worker stopping this often
rate_bucket = RateBucket.__table__


def bucket_shape(per_window: int) -> tuple[float, float]:
    """(burst, refill per window) for a limit of `per_window` calls per window."""
    burst = max(1, per_window // 30)
    return float(burst), float(max(per_window - burst, 1))


class RateBudget:
    def __init__(self, engine: Engine, per_window: Callable[[], int], window_seconds: float = 60.0,
                 clock: Callable[[], float] = time.time):
        self.engine = engine
        self.per_window = per_window
        self.window = window_seconds
        self.clock = clock

    def try_take(self, spare_only: bool = False) -> float:
        """Spend a token: 0.0 when spent, else the seconds until one is available.
        `spare_only`: only from a full bucket (reads that can wait leave the burst to
        whoever comes next)."""
        burst, refill = bucket_shape(self.per_window())
        rate = refill / self.window
        now = self.clock()
        refilled = rate_bucket.c.tokens + (now - rate_bucket.c.updated) * rate
        capped = case((refilled > burst, burst), else_=refilled)
        needed = burst if spare_only else 1
        with self.engine.begin() as connection:
            spent = connection.execute(
                update(rate_bucket).where(rate_bucket.c.name == BUCKET, capped >= needed)
                .values(tokens=capped - 1, updated=now)
            ).rowcount
            if spent:
                return 0.0
            row = connection.execute(select(rate_bucket.c.tokens, rate_bucket.c.updated)
                                     .where(rate_bucket.c.name == BUCKET)).first()
        if row is None:
            self._create(burst)
            return self.try_take()
        tokens = min(burst, row.tokens + (now - row.updated) * rate)
        return max((needed - tokens) / rate, 0.001)

    def drain(self, retry_after: float | None = None) -> None:
        """Freshchat says the account has no calls left: start from an empty bucket, or
        one that refills to its first token only after `retry_after` seconds (the bucket
        owes the calls Freshchat counted and we did not)."""
        _burst, refill = bucket_shape(self.per_window())
        owed = max(0.0, (retry_after or 0.0) * refill / self.window - 1)
        with self.engine.begin() as connection:
            drained = connection.execute(update(rate_bucket).where(rate_bucket.c.name == BUCKET)
                                         .values(tokens=-owed, updated=self.clock())).rowcount
        if not drained:
            self._create(-owed)

    def _create(self, tokens: float) -> None:
        try:
            with self.engine.begin() as connection:
                connection.execute(insert(rate_bucket).values(name=BUCKET, tokens=tokens,
                                                              updated=self.clock()))
        except IntegrityError:
            pass  # another thread or process created it first


class PriorityGate:
    """The callers of one process waiting for the budget, served smallest key first: a key
    is (tier, arrival), so customer-facing calls come before notes, and those before reads
    that can wait, and within a tier the customer who wrote first is served first."""

    def __init__(self, budget: RateBudget):
        self.budget = budget
        self._changed = threading.Condition()
        self._waiting: list[tuple] = []  # a heap of (key, ticket)
        self._tickets = itertools.count()

    def acquire(self, key: tuple, stopping: threading.Event | None = None) -> bool:
        """Block until this caller spent a token: True; False when stopping meanwhile."""
        stopping = stopping or threading.Event()
        entry = (key, next(self._tickets))
        with self._changed:
            heapq.heappush(self._waiting, entry)
            self._changed.notify_all()  # a waiting head may now be behind this caller
            try:
                while not stopping.is_set():
                    if self._waiting[0] is not entry:
                        self._changed.wait(STOP_CHECK_SECONDS)
                        continue
                    wait = self.budget.try_take()
                    if wait <= 0:
                        return True
                    self._changed.wait(min(wait, STOP_CHECK_SECONDS))
                return False
            finally:
                self._waiting.remove(entry)
                heapq.heapify(self._waiting)
                self._changed.notify_all()

    def waiting(self) -> int:
        with self._changed:
            return len(self._waiting)
