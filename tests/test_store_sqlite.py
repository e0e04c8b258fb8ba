"""The WAL is copied back by the scheduler: connections only past a backstop."""

import os
import stat
import threading
import time

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from opencx_bridge import create_app
from opencx_bridge.extensions import db
from opencx_bridge.scheduler.prune import prune_dedup_keys
from opencx_bridge.store import sqlite
from opencx_bridge.store.models import DedupKey, utcnow
from opencx_bridge.worker.runner import Worker


@pytest.fixture
def sqlite_only(app):
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("SQLite only: PostgreSQL has no WAL file of ours to copy back")
        yield


def test_connections_checkpoint_by_themselves_only_past_the_backstop(sqlite_only):
    assert db.session.execute(text("PRAGMA wal_autocheckpoint")).scalar() == sqlite.BACKSTOP_PAGES
    limit = db.session.execute(text("PRAGMA journal_size_limit")).scalar()
    assert limit == sqlite.SIZE_LIMIT_BYTES


def test_write_transactions_begin_immediate_and_wait_for_the_lock(sqlite_only):
    raw = db.session.connection().connection.dbapi_connection
    assert raw.isolation_level == "IMMEDIATE"  # sqlite3 then opens writes with BEGIN IMMEDIATE
    assert db.session.execute(text("PRAGMA busy_timeout")).scalar() == sqlite.BUSY_TIMEOUT_MS
    assert db.session.execute(text("PRAGMA journal_mode")).scalar() == "wal"


def test_a_database_without_a_log_has_nothing_to_copy():
    assert sqlite.checkpoint(create_engine("sqlite://")) is None


def test_a_checkpoint_copies_every_committed_page_back(sqlite_only):
    db.session.add_all(DedupKey(key=f"k{n}", seen_at=utcnow()) for n in range(200))
    db.session.commit()
    db.session.close()  # no reader left on an old snapshot
    assert sqlite.checkpoint(db.engine) > 0
    busy, log, copied = db.session.execute(text("PRAGMA wal_checkpoint(PASSIVE)")).one()
    assert (busy, log) == (0, copied)


def test_other_databases_have_nothing_to_copy(app):
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            pytest.skip("PostgreSQL only")
        assert sqlite.checkpoint(db.engine) is None


def test_the_scheduler_checkpoints_each_second_and_the_prune_after_each_batch(
        app, monkeypatch):
    calls = []
    monkeypatch.setattr(sqlite, "checkpoint", lambda engine: calls.append(engine))
    worker = Worker(app, threads=1)
    worker._last_housekeeping = time.monotonic()  # the prune is not due yet
    worker.run_once()
    assert len(calls) == 1
    with app.app_context():
        calls.clear()
        prune_dedup_keys(batch=2, pause=0)
        assert len(calls) == 1  # nothing expired: one batch


def hold_write_lock(seconds: float) -> threading.Thread:
    """Another connection (the worker's, say) writing for `seconds`."""
    ready, engine = threading.Event(), db.engine

    def hold():
        with engine.connect() as other:
            other.exec_driver_sql("BEGIN IMMEDIATE")
            ready.set()
            time.sleep(seconds)
            other.rollback()

    thread = threading.Thread(target=hold)
    thread.start()
    ready.wait(5)
    return thread


def test_the_intake_gets_the_write_lock_soon_after_another_writer_lets_go(sqlite_only):
    holder = hold_write_lock(0.3)
    started = time.monotonic()
    with db.engine.connect() as connection, sqlite.write_first(connection):
        waited = time.monotonic() - started
        # It asked again and again itself: SQLite's own wait (growing sleeps) is off.
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 0
        connection.execute(DedupKey.__table__.insert().values(key="k", seen_at=utcnow()))
        connection.commit()
    holder.join()
    assert waited >= 0.25  # it waited for the other writer, and then wrote
    with db.engine.connect() as connection:  # the pooled connection waits as before
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == sqlite.BUSY_TIMEOUT_MS


def test_the_intake_gives_up_after_the_busy_timeout(sqlite_only, monkeypatch):
    monkeypatch.setattr(sqlite, "BUSY_TIMEOUT_MS", 100)
    holder = hold_write_lock(0.5)
    with pytest.raises(OperationalError, match="locked"), db.engine.connect() as connection, \
            sqlite.write_first(connection):
        pass
    holder.join()


def test_the_database_its_log_and_the_instance_folder_are_owner_only_whatever_the_umask(
        tmp_path, monkeypatch):
    instance = tmp_path / "fresh-instance"
    monkeypatch.setenv("OPENCX_INSTANCE_PATH", str(instance))
    old = os.umask(0)  # everything world-readable and -writable unless we say otherwise
    try:
        app = create_app({"TESTING": True, "WORKER": False, "SECRET_KEY": "x",
                          "DATABASE_URL": None})  # the embedded default, on any run
        with app.app_context():
            db.session.add(DedupKey(key="k", seen_at=utcnow()))
            db.session.commit()
            files = [instance / f"opencx_bridge.sqlite3{suffix}" for suffix in ("", "-wal", "-shm")]
            assert all(path.exists() for path in files)
            modes = {path.name: stat.S_IMODE(path.stat().st_mode) for path in files}
            db.engine.dispose()
    finally:
        os.umask(old)
    assert stat.S_IMODE(instance.stat().st_mode) == 0o700
    assert modes == {path.name: 0o600 for path in files}
