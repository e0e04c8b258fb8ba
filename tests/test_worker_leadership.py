"""Who leads: a file lock on SQLite, advisory locks on PostgreSQL; both go with their holder."""

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import databases
import pytest

from opencx_bridge.extensions import db
from opencx_bridge.worker import leadership

postgresql_only = pytest.mark.skipif(not databases.ON_POSTGRESQL,
                                     reason="advisory locks are how workers share PostgreSQL")
sqlite_only = pytest.mark.skipif(databases.ON_POSTGRESQL, reason="the file lock is SQLite's")


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_first_worker_leads_and_a_second_takes_over_when_it_stops(app):
    clock, promoted = Clock(), []
    with app.app_context():
        first = leadership.Leadership(db.engine, lambda: promoted.append("first"), clock)
        second = leadership.Leadership(db.engine, lambda: promoted.append("second"), clock)
        assert not first.may_work  # nothing decided before the first check
        first.check()
        second.check()
        assert first.leading and not second.leading
        assert second.may_work is second.shares_work  # works on PostgreSQL, stands by on SQLite
        assert second.standby is not second.shares_work
        first.stop()
        second.check()  # not due yet: the answer stands for CHECK_EVERY
        assert not second.leading
        clock.now += leadership.CHECK_EVERY
        second.check()
        assert second.leading and promoted == ["first", "second"]
        second.stop()


@sqlite_only
def test_a_killed_holder_loses_the_file_lock_at_once(app, tmp_path):
    """The OS drops the lock with the process: no heartbeat to run out."""
    with app.app_context():
        path = leadership.lock_file(db.engine)
        holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
            import sys, time
            from filelock import FileLock
            lock = FileLock({path!r})
            lock.acquire()
            print("held", flush=True)
            time.sleep(60)
        """)], stdout=subprocess.PIPE, text=True)
        try:
            assert holder.stdout.readline().strip() == "held"
            waiting = leadership.Leadership(db.engine, monotonic=Clock())
            waiting.check()
            assert waiting.standby
            holder.kill()
            holder.wait()
            waiting._checked_at = None
            waiting.check()
            assert waiting.leading
            waiting.stop()
        finally:
            holder.kill()
            holder.wait()
            holder.stdout.close()


@sqlite_only
def test_the_lock_file_is_next_to_the_database_and_owner_only(app):
    with app.app_context():
        worker = leadership.Leadership(db.engine)
        worker.check()
        path = leadership.lock_file(db.engine)
        assert Path(path).parent == Path(db.engine.url.database).resolve().parent
        assert os.stat(path).st_mode & 0o077 == 0
        worker.stop()


@postgresql_only
def test_a_worker_lives_until_it_stops(app):
    with app.app_context():
        engine = db.engine
        first, second = leadership.Leadership(engine), leadership.Leadership(engine)
        first.check()
        second.check()
        owners = {first.owner, second.owner, "c:3:z"}
        assert leadership.gone(engine, owners) == {"c:3:z"}
        first.stop()
        assert leadership.gone(engine, {first.owner, second.owner}) == {first.owner}
        second.stop()


@postgresql_only
def test_a_lost_connection_is_a_gone_worker_until_it_checks_again(app):
    clock = Clock()
    with app.app_context():
        engine = db.engine
        worker = leadership.Leadership(engine, monotonic=clock)
        worker.check()
        worker._hold._connection.invalidate()  # as when the server restarts
        assert released_by_server(engine, worker.owner)
        clock.now += leadership.CHECK_EVERY
        worker.check()
        assert leadership.gone(engine, {worker.owner}) == set()
        assert worker.leading
        worker.stop()


def released_by_server(engine, owner: str, patience: float = 10.0) -> bool:
    """The server ends a closed connection's backend, and frees its locks, a moment later."""
    deadline = time.monotonic() + patience
    while time.monotonic() < deadline:
        if leadership.gone(engine, {owner}) == {owner}:
            return True
        time.sleep(0.05)
    return False


def test_owner_keys_are_stable_32_bit_numbers_and_never_the_leaders():
    key = leadership.owner_key("host:12:abcdef01")
    assert key == leadership.owner_key("host:12:abcdef01")
    assert -2**31 <= key < 2**31
    assert key != leadership.owner_key("host:12:abcdef02")
    assert key != leadership.LEADER_KEY


def test_a_worker_that_cannot_take_its_lock_does_no_work(app):
    class Broken:
        def take(self):
            raise RuntimeError("connection refused")

        def release(self):
            pass

    with app.app_context():
        worker = leadership.Leadership(db.engine, monotonic=Clock())
    worker._hold = Broken()
    worker.check()
    assert not worker.may_work and worker.leading is None
    worker.check()  # asked again at once, not CHECK_EVERY later
    assert not worker.may_work
