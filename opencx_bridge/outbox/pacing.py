"""One rate budget for every Freshchat call, shared by all threads and processes.

A token bucket kept in the database and spent with a single conditional UPDATE, so two
bridge processes on one database never spend the same token. To never exceed N calls in
any window (which is what Freshchat counts), the bucket holds a small burst B and refills
at (N - B) per window: B + (N - B) = N calls at most in any window of that length.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from sqlalchemy import case, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from opencx_bridge.store.models import RateBucket

BUCKET = "freshchat"
rate_bucket = RateBucket.__table__


def bucket_shape(per_window: int) -> tuple[float, float]:
    """(burst, refill per window) for a limit of `per_window` calls per window."""
    burst = max(1, per_window // 10)
    return float(burst), float(max(per_window - burst, 1))


class RateBudget:
    def __init__(self, engine: Engine, per_window: Callable[[], int], window_seconds: float = 60.0,
                 clock: Callable[[], float] = time.time):
        self.engine = engine
        self.per_window = per_window
        self.window = window_seconds
        self.clock = clock

    def try_take(self) -> float:
        """Spend a token: 0.0 when spent, else the seconds until one is available."""
        burst, refill = bucket_shape(self.per_window())
        rate = refill / self.window
        now = self.clock()
        refilled = rate_bucket.c.tokens + (now - rate_bucket.c.updated) * rate
        capped = case((refilled > burst, burst), else_=refilled)
        with self.engine.begin() as connection:
            spent = connection.execute(
                update(rate_bucket).where(rate_bucket.c.name == BUCKET, capped >= 1)
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
        return max((1 - tokens) / rate, 0.001)

    def acquire(self, stopping: threading.Event | None = None) -> bool:
        """Block until a token is spent: True; False when the worker stops meanwhile."""
        stopping = stopping or threading.Event()
        while True:
            wait = self.try_take()
            if wait <= 0:
                return True
            if stopping.wait(wait):
                return False

    def drain(self) -> None:
        """Freshchat says the account has no calls left: start from an empty bucket."""
        with self.engine.begin() as connection:
            connection.execute(update(rate_bucket).where(rate_bucket.c.name == BUCKET)
                               .values(tokens=0.0, updated=self.clock()))

    def _create(self, burst: float) -> None:
        try:
            with self.engine.begin() as connection:
                connection.execute(insert(rate_bucket).values(name=BUCKET, tokens=burst,
                                                              updated=self.clock()))
        except IntegrityError:
            pass  # another thread or process created it first
