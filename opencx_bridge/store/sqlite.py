"""What SQLite needs: WAL, BEGIN IMMEDIATE, a busy timeout, and checkpoints off the request path.

Every connection runs in WAL mode (the worker writes while the dashboard reads), opens its
write transactions with BEGIN IMMEDIATE (it takes the write lock at the start, so two
connections never deadlock upgrading a read to a write) and waits up to busy_timeout for
the lock that another connection holds.

The write-ahead log is copied back into the database by the scheduler, not a webhook.

SQLite checkpoints in whichever connection's commit takes the log past 1000 pages: here
mostly a webhook's, which then waited for the copy and its fsyncs (intake at 32 clients:
p99 85-100 ms with it, 41-49 ms without). So bridge connections checkpoint by themselves
only past BACKSTOP_PAGES (for a bridge whose worker runs nowhere), and the scheduler runs a
PASSIVE checkpoint, which waits for no reader or writer, every second and after each batch
of a prune. A log that grew in a burst (a prune) is cut back to SIZE_LIMIT_BYTES when it
restarts. Other databases: nothing to do.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
from collections.abc import Iterator

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError

BACKSTOP_PAGES = 10_000  # about 40 MB of log
SIZE_LIMIT_BYTES = 64 * 1024 * 1024  # the log file is cut back to this when it restarts
BUSY_TIMEOUT_MS = 5000
PRAGMAS = ("journal_mode=WAL", f"busy_timeout={BUSY_TIMEOUT_MS}", "synchronous=NORMAL",
           f"wal_autocheckpoint={BACKSTOP_PAGES}", f"journal_size_limit={SIZE_LIMIT_BYTES}",
           "foreign_keys=ON")


WRITE_FIRST_POLL_SECONDS = 0.0005
_writer = threading.Lock()


@contextlib.contextmanager
def write_first(connection: Connection) -> Iterator[None]:
    """Around the intake's write transaction: webhooks write before the worker.

    SQLite lets one connection write at a time, and one that finds the lock taken waits in
    SQLite's busy handler, which sleeps in steps of 1, 2, 5 ... up to 100 ms: behind a worker
    that writes a dozen short transactions per event, a webhook waited up to a second. So the
    request threads of a process queue here, handed over at once, and the one at the front
    asks for the lock every half millisecond instead of sleeping in steps (the worker keeps
    busy_timeout). Other databases: nothing to do.
    """
    if connection.dialect.name != "sqlite":
        yield
        return
    with _writer:
        raw = connection.connection.dbapi_connection
        raw.execute("PRAGMA busy_timeout=0")  # a taken lock answers at once: we poll
        try:
            _begin_immediate_polling(connection)
            yield
        finally:
            raw.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")


def _begin_immediate_polling(connection: Connection) -> None:
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
            return
        except OperationalError as exc:
            if "locked" not in str(exc.orig) or time.monotonic() >= deadline:
                raise
            connection.rollback()  # nothing began: SQLAlchemy's own bookkeeping only
            time.sleep(WRITE_FIRST_POLL_SECONDS)


def configure(engine: Engine) -> None:
    """Set up the app's SQLite engine; other databases are left alone."""
    if engine.dialect.name != "sqlite":
        return
    _create_private(engine.url.database)
    event.listen(engine, "do_connect", _begin_immediate)
    event.listen(engine, "connect", _pragmas)


def database_file(database: str | None) -> str | None:
    """The absolute path of an ordinary SQLite database file; None for a memory database
    (and for a `file:` URI, which the bridge does not take apart)."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return os.path.realpath(database)


def _create_private(database: str | None) -> None:
    """A new database file is made owner-only (0600) before SQLite opens it, whatever the
    umask; SQLite gives its -wal and -shm files the database file's permissions."""
    path = database_file(database)
    if path is None or os.path.exists(path) or not os.path.isdir(os.path.dirname(path)):
        return  # an existing file keeps its mode; a missing folder is SQLite's error to give
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        os.chmod(path, 0o600)


def _begin_immediate(_dialect, _record, _cargs, cparams) -> None:
    cparams.setdefault("isolation_level", "IMMEDIATE")  # sqlite3 then BEGINs IMMEDIATE


def _pragmas(dbapi_connection, _record) -> None:
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        for pragma in PRAGMAS:
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()


def checkpoint(engine: Engine) -> int | None:
    """Pages copied back into the database file so far; None when not SQLite, not in WAL
    mode (a memory database), or when another checkpoint is running (it does the same work)."""
    if engine.dialect.name != "sqlite":
        return None
    with engine.connect() as connection:
        busy, _log, copied = connection.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)").one()
    return None if busy or copied < 0 else copied
