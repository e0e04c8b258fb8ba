"""The SQLite write lock: writers queue in order and are handed the lock when it frees,
instead of polling SQLite's busy handler; readers and other databases are left alone."""

import contextlib
import sqlite3
import threading
from types import SimpleNamespace

import pytest
from sqlalchemy import text
from waiting import DEADLOCK_GUARD, wait_until

from opencx_bridge import write_lock
from opencx_bridge.extensions import db
from opencx_bridge.write_lock import DatabaseLock, FairLock, FileLock, WriteLockedConnection


@pytest.fixture
def database(tmp_path):
    path = tmp_path / "lock.sqlite3"
    with sqlite3.connect(path) as setup:
        setup.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, who TEXT)")
    setup.close()
    return path


def connect(path, busy_timeout_ms: int = 0) -> WriteLockedConnection:
    """busy_timeout 0: SQLite fails at once on a taken lock, so any wait seen is ours."""
    connection = sqlite3.connect(path, factory=WriteLockedConnection, check_same_thread=False,
                                 isolation_level="IMMEDIATE")
    connection.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
    return connection


# FairLock -----------------------------------------------------------------------------------

def test_waiters_get_the_lock_in_the_order_they_asked():
    lock, order = FairLock(), []
    assert lock.acquire(timeout=1)

    def take(name):
        assert lock.acquire(timeout=DEADLOCK_GUARD)
        order.append(name)
        lock.release()

    threads = []
    for number, name in enumerate(("first", "second", "third"), start=1):
        threads.append(threading.Thread(target=take, args=(name,)))
        threads[-1].start()
        wait_until(lambda number=number: lock.waiting == number)
    lock.release()
    for thread in threads:
        thread.join(DEADLOCK_GUARD)
    assert order == ["first", "second", "third"]
    assert not lock.locked()


def test_a_waiter_that_gives_up_leaves_the_queue():
    lock = FairLock()
    assert lock.acquire(timeout=1)
    assert lock.acquire(timeout=0.01) is False
    assert lock.waiting == 0
    lock.release()
    assert not lock.locked()
    assert lock.acquire(timeout=0)


def test_urgent_waiters_go_before_the_others_that_waited_longer():
    lock, order = FairLock(), []
    assert lock.acquire(timeout=1)
    threads = start_takers(lock, order, [("worker", False), ("intake", True)])
    lock.release()
    join(threads)
    assert order == ["intake", "worker"]


def test_the_others_get_a_turn_after_a_run_of_urgent_ones(monkeypatch):
    monkeypatch.setattr(write_lock, "URGENT_RUN", 2)
    lock, order = FairLock(), []
    assert lock.acquire(timeout=1)
    threads = start_takers(lock, order, [("worker", False), ("intake-1", True),
                                         ("intake-2", True), ("intake-3", True)])
    lock.release()
    join(threads)
    assert order == ["intake-1", "intake-2", "worker", "intake-3"]


def start_takers(lock: FairLock, order: list, takers: list) -> list[threading.Thread]:
    """One thread per (name, urgent), queued in this order behind the current holder."""
    def take(name, is_urgent):
        assert lock.acquire(timeout=DEADLOCK_GUARD, is_urgent=is_urgent)
        order.append(name)
        lock.release()

    threads = []
    for number, (name, is_urgent) in enumerate(takers, start=1):
        threads.append(threading.Thread(target=take, args=(name, is_urgent)))
        threads[-1].start()
        wait_until(lambda number=number: lock.waiting == number)
    return threads


def join(threads: list[threading.Thread]) -> None:
    for thread in threads:
        thread.join(DEADLOCK_GUARD)


# FileLock: the same lock for another process (flock is per open file, so two here) ----------

def test_the_lock_file_keeps_out_a_second_holder_until_released(tmp_path):
    here, other = FileLock(str(tmp_path / "db-writelock")), FileLock(str(tmp_path / "db-writelock"))
    assert here.acquire(timeout=1)
    assert other.acquire(timeout=0) is False
    here.release()
    assert other.acquire(timeout=0)
    other.release()


def test_a_database_lock_in_another_process_waits_for_the_file(tmp_path, monkeypatch):
    """Two DatabaseLocks on one file stand for two processes: only the file is shared."""
    monkeypatch.setattr(write_lock, "WAIT_SECONDS", 0.0)
    here = DatabaseLock(str(tmp_path / "db.sqlite3"))
    elsewhere = DatabaseLock(str(tmp_path / "db.sqlite3"))
    assert here.acquire()
    assert elsewhere.acquire() is False  # left to SQLite's busy handler
    assert not elsewhere.locked()  # gave its in-process lock back
    here.release()
    assert elsewhere.acquire()
    elsewhere.release()


# connections --------------------------------------------------------------------------------

def test_a_second_writer_waits_for_the_first_and_both_succeed(database):
    """With busy_timeout 0 the second INSERT would fail at once without the lock."""
    first, second = connect(database), connect(database)
    lock = write_lock.lock_for(str(database))
    first.execute("INSERT INTO t (who) VALUES ('first')")
    assert lock.locked()
    errors = []

    def write_second():
        try:
            second.execute("INSERT INTO t (who) VALUES ('second')")
            second.commit()
        except sqlite3.Error as exc:
            errors.append(exc)

    thread = threading.Thread(target=write_second)
    thread.start()
    wait_until(lambda: lock.waiting == 1 or not thread.is_alive())
    first.commit()
    thread.join(DEADLOCK_GUARD)
    assert errors == []
    assert [row[0] for row in first.execute("SELECT who FROM t ORDER BY id")] == [
        "first", "second"]
    assert not lock.locked()


def test_a_write_in_an_urgent_block_goes_before_a_waiting_one(database):
    holder, worker, intake = connect(database), connect(database), connect(database)
    lock = write_lock.lock_for(str(database))
    holder.execute("INSERT INTO t (who) VALUES ('holder')")
    order = []

    def write(connection, who, is_urgent):
        with write_lock.urgent() if is_urgent else contextlib.nullcontext():
            connection.execute("INSERT INTO t (who) VALUES (?)", (who,))
        order.append(who)
        connection.commit()

    threads = []
    for number, (connection, who, is_urgent) in enumerate(
            [(worker, "worker", False), (intake, "intake", True)], start=1):
        threads.append(threading.Thread(target=write, args=(connection, who, is_urgent)))
        threads[-1].start()
        wait_until(lambda number=number: lock.waiting == number)
    holder.commit()
    join(threads)
    assert order == ["intake", "worker"]


def test_reads_take_no_lock_even_while_another_connection_writes(database):
    writer, reader = connect(database), connect(database)
    writer.execute("INSERT INTO t (who) VALUES ('w')")
    assert reader.execute("SELECT count(*) FROM t").fetchone() == (0,)
    assert write_lock.lock_for(str(database)).waiting == 0
    writer.commit()


def test_the_lock_is_given_back_after_a_failed_write_is_rolled_back(database):
    connection = connect(database)
    connection.execute("INSERT INTO t (id, who) VALUES (1, 'a')")
    with pytest.raises(sqlite3.IntegrityError):
        connection.execute("INSERT INTO t (id, who) VALUES (1, 'again')")
    lock = write_lock.lock_for(str(database))
    assert lock.locked()  # the transaction is still open
    connection.rollback()
    assert not lock.locked()


def test_a_write_outside_a_transaction_holds_the_lock_only_for_its_statement(database):
    connection = connect(database)
    connection.isolation_level = None  # autocommit: no transaction is left open
    connection.execute("INSERT INTO t (who) VALUES ('x')")
    assert not write_lock.lock_for(str(database)).locked()


def test_closing_a_connection_in_a_write_gives_the_lock_back(database):
    connection = connect(database)
    connection.execute("INSERT INTO t (who) VALUES ('x')")
    connection.close()
    assert not write_lock.lock_for(str(database)).locked()


def test_a_thread_writing_on_two_connections_is_not_made_to_wait_on_itself(database,
                                                                          monkeypatch):
    """It gets SQLite's own answer (locked) at once instead of queueing behind itself."""
    first, second = connect(database), connect(database)
    lock = write_lock.lock_for(str(database))
    first.execute("INSERT INTO t (who) VALUES ('first')")
    asked = []
    monkeypatch.setattr(lock._threads, "acquire", lambda timeout: asked.append(timeout))
    with pytest.raises(sqlite3.OperationalError, match="database is locked"):
        second.execute("INSERT INTO t (who) VALUES ('second')")
    assert asked == []
    first.commit()


def test_memory_databases_have_no_lock():
    connection = sqlite3.connect(":memory:", factory=WriteLockedConnection)
    connection.execute("CREATE TABLE t (x)")
    connection.execute("INSERT INTO t VALUES (1)")
    assert connection._write_lock is None
    connection.commit()


# the SQLAlchemy hook ------------------------------------------------------------------------

def test_the_app_engine_writes_with_begin_immediate_and_the_lock(app):
    with app.app_context(), db.engine.connect() as connection:
        if connection.dialect.name != "sqlite":
            pytest.skip("the suite runs on PostgreSQL: left alone, as tested below")
        raw = connection.connection.dbapi_connection
        assert isinstance(raw, WriteLockedConnection)
        assert raw.isolation_level == "IMMEDIATE"
        connection.execute(text("UPDATE setting SET value = value WHERE key = 'none'"))
        assert raw._write_lock.locked()
        connection.rollback()
        assert not raw._write_lock.locked()


def test_other_databases_are_left_alone():
    params = {}
    postgres = SimpleNamespace(name="postgresql", driver="psycopg2")
    write_lock.use_for_sqlite(postgres, None, [], params)
    assert params == {}


def test_a_configured_factory_or_isolation_level_wins():
    params = {"factory": sqlite3.Connection, "isolation_level": "DEFERRED"}
    pysqlite = SimpleNamespace(name="sqlite", driver="pysqlite")
    write_lock.use_for_sqlite(pysqlite, None, [], params)
    assert params == {"factory": sqlite3.Connection, "isolation_level": "DEFERRED"}
