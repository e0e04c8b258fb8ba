"""Which worker leads, told by a lock that the OS or the database drops when its holder dies.

SQLite: a file lock next to the database file. Its holder is the only worker that works
(two workers on one file would both answer the same customer message) and runs the
scheduler; any other worker stands by and takes the lock once the holder exits, crashes or
is killed. No clocks, no heartbeats, no process ids.

PostgreSQL: every worker works (a conversation's events and outbox rows are claimed with
row locks). Each worker holds a session advisory lock keyed by its owner id, so anyone can
ask whether the owner of a row in flight still lives (`gone`); the one that also holds the
leader lock runs the scheduler. Both go with the worker's own connection: a worker whose
connection is lost (a database restart) takes them again at its next check.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable

from filelock import FileLock, Timeout
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import NullPool

from opencx_bridge.store import sqlite

log = logging.getLogger(__name__)
CHECK_EVERY = 1.0  # seconds between checks (a standby worker's wait for its turn)
NAMESPACE = 0x0C0B  # first key of our advisory locks; the second is an owner's hash
LEADER_KEY = 0  # an owner hash is never asked for here: see owner_key
LOCK_TIMEOUT_SECONDS = 5  # connect and statement timeout of the lock connection
TRY_HOLD = text("SELECT pg_try_advisory_lock(:namespace, :key)")
PROBE = text("SELECT pg_try_advisory_xact_lock(:namespace, :key)")
BACKEND = text("SELECT pg_backend_pid()")


def new_owner() -> str:
    """A worker's id, as written into the outbox rows it claims (for people to read)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def owner_key(owner: str) -> int:
    """A signed 32-bit key from the owner id, never LEADER_KEY."""
    key = int.from_bytes(hashlib.sha256(owner.encode()).digest()[:4], "big", signed=True)
    return key or 1


def lock_file(engine: Engine) -> str | None:
    """The lock file of a SQLite database file; None for a memory database."""
    path = sqlite.database_file(engine.url.database)
    return path + "-worker.lock" if path else None


class Leadership:
    def __init__(self, engine: Engine, on_promoted: Callable[[], None] = lambda: None,
                 monotonic: Callable[[], float] = time.monotonic):
        self.shares_work = engine.dialect.name == "postgresql"
        self.owner = new_owner()
        self.on_promoted, self.monotonic = on_promoted, monotonic
        self.leading: bool | None = None  # None until the first check has decided
        self._lock = threading.Lock()
        self._checked_at: float | None = None
        self._announced = False
        if self.shares_work:
            self._hold: _Hold = _AdvisoryLocks(engine, self.owner)
        else:
            self._hold = _FileHold(lock_file(engine))

    @property
    def standby(self) -> bool:
        return self.leading is False and not self.shares_work

    @property
    def may_work(self) -> bool:
        """Not before the first check: on SQLite only the holder, after its promotion ran."""
        if self.leading is None:
            return False
        return self.shares_work or self.leading

    def check(self) -> None:
        """Take the lock when free (at most every CHECK_EVERY); on becoming the leader,
        on_promoted runs before any worker thread sees this worker lead."""
        with self._lock:
            now = self.monotonic()
            if self._checked_at is not None and now - self._checked_at < CHECK_EVERY:
                return
            was_leading = bool(self.leading)
            try:
                leading = self._hold.take()
            except Exception:  # noqa: BLE001 - no lock, no work: asked again at the next check
                log.exception("the worker could not take its lock; it does nothing until it can")
                self.leading, self._checked_at = None, None
                return
            self._checked_at = now
            if leading and not was_leading:
                log.info("this worker (%s) is now the %s", self.owner,
                         "scheduler" if self.shares_work else "active one")
                self.on_promoted()
            elif not leading and not self.shares_work and (was_leading or not self._announced):
                self._announced = True
                log.warning("another worker is active on this database; standing by")
            self.leading = leading

    def stop(self) -> None:
        """Let go: a standby worker may take over at once."""
        with self._lock:
            self._hold.release()
            self.leading = False


class _Hold:
    def take(self) -> bool:
        raise NotImplementedError

    def release(self) -> None:
        raise NotImplementedError


class _FileHold(_Hold):
    """The file lock on SQLite, kept from the first take to release (or the process end)."""

    def __init__(self, path: str | None):
        # Not thread-local: any worker thread may check, the process holds the lock.
        self._file = FileLock(path, mode=0o600, thread_local=False) if path else None
        self._held = False

    def take(self) -> bool:
        if self._file is None:
            return True  # a memory database lives in this process only
        if not self._held:
            try:
                self._file.acquire(blocking=False)
                self._held = True
            except Timeout:
                return False
        return True

    def release(self) -> None:
        if self._file is not None and self._held:
            self._file.release()
            self._held = False


class _AdvisoryLocks(_Hold):
    """The owner's lock and, when free, the leader lock, on a connection of our own."""

    def __init__(self, engine: Engine, owner: str):
        self._engine = create_engine(  # outside the pool; a dead server must not hang a check
            engine.url, poolclass=NullPool,
            connect_args={"connect_timeout": LOCK_TIMEOUT_SECONDS,
                          "options": f"-c statement_timeout={LOCK_TIMEOUT_SECONDS * 1000}"})
        self._keys = {"namespace": NAMESPACE, "key": owner_key(owner)}
        self._connection: Connection | None = None
        self._backend: int | None = None  # the server process that holds our locks
        self._leading = False

    def take(self) -> bool:
        if not self._still_connected():
            self._connect()
        if not self._leading:
            self._leading = bool(self._connection.execute(
                TRY_HOLD, {"namespace": NAMESPACE, "key": LEADER_KEY}).scalar())
            self._connection.commit()  # session locks outlive the transaction
        return self._leading

    def _still_connected(self) -> bool:
        if self._connection is None:
            return False
        try:
            same = self._connection.execute(BACKEND).scalar() == self._backend
            self._connection.commit()
        except Exception:  # noqa: BLE001 - any failure: the connection, and its locks, are gone
            same = False
        if not same:
            log.warning("the worker's lock connection was lost; taking its locks again")
            self._close()
        return same

    def _connect(self) -> None:
        connection = self._engine.connect()
        # Not waited for: after a lost connection the server may still hold our old lock
        # for a moment; until it lets go this worker does nothing (take() raises).
        if not connection.execute(TRY_HOLD, self._keys).scalar():
            connection.close()
            raise RuntimeError("this worker's own advisory lock is still held")
        self._backend = connection.execute(BACKEND).scalar()
        connection.commit()
        self._connection, self._leading = connection, False

    def release(self) -> None:
        self._close()
        self._engine.dispose()

    def _close(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):  # closing a dead connection may fail too
                self._connection.close()
        self._connection, self._leading = None, False


def gone(engine: Engine, owners: set[str]) -> set[str]:
    """Those of `owners` whose worker no longer holds its lock (PostgreSQL)."""
    if not owners:
        return set()  # the scheduler asks every second; mostly nobody is sending
    with engine.begin() as connection:  # a probe that succeeds ends with this transaction
        return {owner for owner in owners if connection.execute(
            PROBE, {"namespace": NAMESPACE, "key": owner_key(owner)}).scalar()}
