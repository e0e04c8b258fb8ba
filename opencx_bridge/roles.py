"""What one worker may do on its database, renewed with a heartbeat every few seconds.

SQLite takes one writer at a time, so there the "worker" lease decides everything: its
holder works, any other worker stands by. On PostgreSQL every worker works: a conversation's
events and outbox rows are claimed with row locks (processing.py, outbox.py), so several
bridge processes share the load; the lease then only picks the one that runs the scheduler,
and each worker keeps a membership row so that rows a dead worker left in flight are found.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from sqlalchemy.engine import Engine

from .lease import Lease, live_owners, member_name

log = logging.getLogger(__name__)
CHECK_EVERY = 5.0  # seconds between heartbeats; a lease expires after lease.EXPIRES_AFTER


class Roles:
    def __init__(self, engine: Engine, clock: Callable[[], float] = time.time,
                 monotonic: Callable[[], float] = time.monotonic):
        self.engine, self.monotonic = engine, monotonic
        self.shares_work = engine.dialect.name == "postgresql"
        self.lease = Lease(engine, clock=clock)
        self.owner = self.lease.owner
        self._member = Lease(engine, self.owner, clock, name=member_name(self.owner))
        self.leading: bool | None = None  # None until the first check has decided
        self._checked_at: float | None = None
        self._announced_standby = False
        self._lock = threading.Lock()

    @property
    def standby(self) -> bool:
        return self.leading is False and not self.shares_work

    def check(self) -> bool:
        """Renew the heartbeats when due. True when this worker has just become the leader
        (the one with the scheduler; on SQLite the only one working)."""
        with self._lock:
            now = self.monotonic()
            if self._checked_at is not None and now - self._checked_at < CHECK_EVERY:
                return False
            self._checked_at = now
            if self.shares_work:
                self._member.acquire()  # a row of its own: always granted
            was_leading, self.leading = bool(self.leading), self.lease.acquire()
            if self.leading and not was_leading:
                log.info("this worker (%s) is now the %s", self.owner,
                         "scheduler" if self.shares_work else "active one")
                return True
            if not self.leading and not self.shares_work and (
                    was_leading or not self._announced_standby):
                self._announced_standby = True
                log.warning("another worker (%s) is active on this database; standing by",
                            self.lease.holder())
            return False

    @property
    def may_work(self) -> bool:
        return self.shares_work or bool(self.leading)

    def live_owners(self) -> set[str]:
        return live_owners(self.engine, self.lease.clock())

    def stop(self) -> None:
        """Let a standby worker take over at once, and leave the members."""
        if self.leading:
            self.lease.release()
            self.leading = False
        if self.shares_work:
            self._member.forget()
