"""What one worker may do on its database, renewed by a heartbeat thread of its own.

SQLite takes one writer at a time, so there the "worker" lease decides everything: its
holder works, any other worker stands by. On PostgreSQL every worker works: a conversation's
events and outbox rows are claimed with row locks (processing.py, outbox.py), so several
bridge processes share the load; the lease then only picks the one that runs the scheduler.

The heartbeat runs on its own thread: worker threads can be busy far longer than a lease
lasts (a Freshchat call, a wait for the shared rate budget), and a lease that lapses while
its holder still works would let a second worker send the same rows again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from sqlalchemy.engine import Engine

from . import membership
from .lease import Lease

log = logging.getLogger(__name__)
CHECK_EVERY = 5.0  # seconds between heartbeats; a lease expires after lease.EXPIRES_AFTER


class Roles:
    def __init__(self, engine: Engine, on_promoted: Callable[[], None] = lambda: None,
                 clock: Callable[[], float] = time.time,
                 monotonic: Callable[[], float] = time.monotonic):
        self.monotonic, self.on_promoted = monotonic, on_promoted
        self.shares_work = engine.dialect.name == "postgresql"
        self.lease = Lease(engine, clock=clock)
        self.owner = self.lease.owner
        self.member = membership.Member(engine, self.owner) if self.shares_work else None
        self.leading: bool | None = None  # None until the first check has decided
        self._checked_at: float | None = None
        self._announced_standby = False
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def standby(self) -> bool:
        return self.leading is False and not self.shares_work

    @property
    def may_work(self) -> bool:
        """Not before the first check: a worker must be a known member (PostgreSQL) or the
        lease holder whose promotion has run (SQLite) before it claims anything."""
        if self.leading is None:
            return False
        return self.shares_work or self.leading

    def check(self) -> None:
        """Renew the lease (and membership) when due; on becoming the leader, on_promoted
        runs before any worker thread can see this worker lead."""
        with self._lock:
            now = self.monotonic()
            if self._checked_at is not None and now - self._checked_at < CHECK_EVERY:
                return
            self._checked_at = now
            if self.member is not None:
                self.member.join()
            was_leading, leading = bool(self.leading), self.lease.acquire()
            if leading and not was_leading:
                log.info("this worker (%s) is now the %s", self.owner,
                         "scheduler" if self.shares_work else "active one")
                self.on_promoted()
            elif not leading and not self.shares_work and (
                    was_leading or not self._announced_standby):
                self._announced_standby = True
                log.warning("another worker (%s) is active on this database; standing by",
                            self.lease.holder())
            self.leading = leading

    def start(self) -> None:
        self._thread = threading.Thread(target=self._beat, name="opencx-heartbeat", daemon=True)
        self._thread.start()

    def _beat(self) -> None:
        while not self._stopping.is_set():
            try:
                self.check()
            except Exception:  # noqa: BLE001 - a database hiccup must not end the heartbeat
                log.exception("worker heartbeat failed")
            self._stopping.wait(CHECK_EVERY / 5)

    def stop(self, handing_over: bool = True) -> None:
        """End the heartbeat. Only when no worker thread is still busy (handing_over) let a
        standby worker take over at once; otherwise the lease simply runs out."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(5)
        if handing_over and self.leading:
            self.lease.release()
        self.leading = False
        if handing_over and self.member is not None:
            self.member.leave()
