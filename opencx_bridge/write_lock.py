"""One writer at a time on a SQLite file, handed over at once instead of slept on.

SQLite lets one connection write at a time. A connection that finds the write lock taken
waits in SQLite's busy handler, which sleeps in growing steps of up to 100 ms instead of
waking when the lock frees: a webhook arriving while the worker writes waited tens of
milliseconds for a transaction that took one. So every bridge connection to a SQLite file
takes a lock of its own just before its first write opens the transaction (BEGIN
IMMEDIATE: no read-to-write upgrade) and gives it back right after the commit or rollback:

- between the threads of a process, first come first served, handed straight to the
  next waiter;
- between processes (a `flask worker` next to `flask serve`), flock() on
  ``<database>-writelock`` next to the file, polled every millisecond.

SQLite's own locking stays underneath (busy_timeout): a writer outside the bridge (the
sqlite3 shell, a backup) is still waited for, and a lock not had within WAIT_SECONDS is
left to SQLite to decide. Other databases (PostgreSQL) are not touched.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
import weakref
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

try:
    import fcntl
except ImportError:  # not on Windows: threads are still serialised, processes by SQLite
    fcntl = None

WAIT_SECONDS = 5.0  # as long as busy_timeout; past it SQLite's own locking decides
POLL_SECONDS = 0.001
WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")  # what makes sqlite3 open a transaction
URGENT_RUN = 8  # urgent writers served in a row before a waiting other one gets its turn
_urgent: ContextVar[bool] = ContextVar("opencx_urgent_write", default=False)


@contextmanager
def urgent() -> Iterator[None]:
    """Writes in this block go before the others (the worker's): the intake answers a
    webhook while Freshchat waits, a worker's transaction can wait a few milliseconds."""
    token = _urgent.set(True)
    try:
        yield
    finally:
        _urgent.reset(token)


class FairLock:
    """A lock handed straight to the next waiter on release, in the order they asked, except
    that urgent waiters go first: at most URGENT_RUN of them in a row while others wait."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._held = False
        self._queues: dict[bool, deque[threading.Lock]] = {True: deque(), False: deque()}
        self._urgent_run = 0

    def acquire(self, timeout: float | None = None, is_urgent: bool = False) -> bool:
        """True once held; False when `timeout` seconds passed first (None: no limit)."""
        with self._mutex:
            if not self._held:
                self._held = True
                return True
            turn = threading.Lock()
            turn.acquire()
            self._queues[is_urgent].append(turn)
        if turn.acquire(timeout=-1 if timeout is None else timeout):
            return True
        with self._mutex:
            if turn in self._queues[is_urgent]:
                self._queues[is_urgent].remove(turn)
                return False
        return True  # handed over just as the wait ran out

    def locked(self) -> bool:
        return self._held

    @property
    def waiting(self) -> int:
        return len(self._queues[True]) + len(self._queues[False])

    def release(self) -> None:
        with self._mutex:
            first, other = self._queues[True], self._queues[False]
            if first and (not other or self._urgent_run < URGENT_RUN):
                self._urgent_run += 1
                first.popleft().release()  # stays held: it passes to the next one
            elif other:
                self._urgent_run = 0
                other.popleft().release()
            else:
                self._urgent_run = 0
                self._held = False


class FileLock:
    """flock() on a file next to the database: the same lock for other processes."""

    def __init__(self, path: str) -> None:
        self._fd = None
        if fcntl is not None:
            try:
                self._fd = os.open(path, os.O_RDONLY | os.O_CREAT, 0o644)
            except OSError:
                return  # a read-only folder: SQLite's busy handler alone, as before
            weakref.finalize(self, os.close, self._fd)

    def acquire(self, timeout: float) -> bool:
        if self._fd is None:
            return True
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    return False
                time.sleep(POLL_SECONDS)  # flock() itself cannot wait with a time limit

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)


class DatabaseLock:
    """The write lock of one database file for this process: threads, then processes."""

    def __init__(self, database: str) -> None:
        self._threads = FairLock()
        self._file = FileLock(database + "-writelock")
        self._holder: int | None = None

    def acquire(self) -> bool:
        """True when held; False leaves the wait to SQLite (timed out, or no use waiting)."""
        me = threading.get_ident()
        if self._holder == me:
            return False  # this thread writes on another connection: waiting would deadlock
        deadline = time.monotonic() + WAIT_SECONDS
        if not self._threads.acquire(WAIT_SECONDS, _urgent.get()):
            return False
        if not self._file.acquire(max(0.0, deadline - time.monotonic())):
            self._threads.release()
            return False
        self._holder = me
        return True

    def locked(self) -> bool:
        return self._threads.locked()

    @property
    def waiting(self) -> int:
        """Threads of this process waiting for it."""
        return self._threads.waiting

    def release(self) -> None:
        self._holder = None
        self._file.release()  # before the threads' lock: the next thread takes it anew
        self._threads.release()


_locks: weakref.WeakValueDictionary[str, DatabaseLock] = weakref.WeakValueDictionary()
_locks_mutex = threading.Lock()


def lock_for(database: str) -> DatabaseLock:
    """The one lock per database file in this process (gone with its last connection)."""
    path = os.path.realpath(database)  # one lock however the path is spelt
    with _locks_mutex:
        lock = _locks.get(path)
        if lock is None:
            lock = _locks[path] = DatabaseLock(path)
        return lock


def _database_file(database, uri: bool) -> str | None:
    """The name of an ordinary database file; None for memory and URI databases."""
    name = os.fsdecode(database)
    if uri or name in ("", ":memory:") or name.startswith("file:"):
        return None
    return name


class WriteLockedConnection(sqlite3.Connection):
    """sqlite3 connection that holds its database's DatabaseLock while it has a
    transaction open; sqlite3 opens one just before the first write statement."""

    def __init__(self, database, *args, **kwargs) -> None:
        super().__init__(database, *args, **kwargs)
        path = _database_file(database, bool(kwargs.get("uri")))
        self._write_lock = lock_for(path) if path else None
        self._holding = False

    def cursor(self, factory=None):
        return super().cursor(factory or WriteLockedCursor)

    def execute(self, sql, parameters=(), /):  # the C shortcut would bypass cursor()
        return self.cursor().execute(sql, parameters)

    def executemany(self, sql, seq_of_parameters, /):
        return self.cursor().executemany(sql, seq_of_parameters)

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self._after_statement()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self._after_statement()

    def close(self) -> None:
        try:
            super().close()
        finally:
            if self._holding:
                self._holding = False
                self._write_lock.release()

    def _before_statement(self, sql: str) -> None:
        if (self._write_lock is not None and not self._holding and not self.in_transaction
                and sql.lstrip()[:7].upper().startswith(WRITES)):
            self._holding = self._write_lock.acquire()

    def _after_statement(self) -> None:
        """Let go once no transaction is open: committed, rolled back, or autocommit."""
        if self._holding and not self.in_transaction:
            self._holding = False
            self._write_lock.release()


class WriteLockedCursor(sqlite3.Cursor):
    def execute(self, sql, parameters=(), /):
        self.connection._before_statement(sql)
        try:
            return super().execute(sql, parameters)
        finally:
            self.connection._after_statement()

    def executemany(self, sql, seq_of_parameters, /):
        self.connection._before_statement(sql)
        try:
            return super().executemany(sql, seq_of_parameters)
        finally:
            self.connection._after_statement()


def use_for_sqlite(dialect, _connection_record, _cargs, cparams) -> None:
    """SQLAlchemy do_connect hook: pysqlite connections get the write lock and BEGIN
    IMMEDIATE, unless the configuration chose its own factory or isolation level."""
    if dialect.name != "sqlite" or dialect.driver != "pysqlite":
        return
    cparams.setdefault("factory", WriteLockedConnection)
    cparams.setdefault("isolation_level", "IMMEDIATE")
