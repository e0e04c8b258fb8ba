"""One active worker per database."""

import pytest

from opencx_bridge.extensions import db
from opencx_bridge.lease import EXPIRES_AFTER, Lease


class Clock:
    now = 1_000_000.0

    def __call__(self):
        return self.now


@pytest.fixture
def engine(app):
    with app.app_context():
        return db.engine


@pytest.fixture
def clock():
    return Clock()


def test_the_first_worker_takes_the_lease_and_renews_it(engine, clock):
    first = Lease(engine, "host:1:a", clock)
    assert first.acquire() and first.acquire()
    assert first.holder() == "host:1:a"


def test_a_second_worker_stands_by_while_the_first_is_alive(engine, clock):
    first, second = Lease(engine, "host:1:a", clock), Lease(engine, "host:1:b", clock)
    assert first.acquire()
    assert not second.acquire()
    clock.now += EXPIRES_AFTER - 1
    assert not second.acquire()


def test_a_missed_heartbeat_hands_the_lease_over(engine, clock):
    first, second = Lease(engine, "elsewhere:1:a", clock), Lease(engine, "host:2:b", clock)
    assert first.acquire()
    clock.now += EXPIRES_AFTER + 1
    assert second.acquire()
    assert not first.acquire()


def test_a_released_lease_is_free_at_once(engine, clock):
    first, second = Lease(engine, "host:1:a", clock), Lease(engine, "host:1:b", clock)
    assert first.acquire()
    first.release()
    assert second.acquire()


def test_a_holder_on_this_machine_whose_process_died_is_replaced_at_once(engine, clock):
    import socket

    dead = Lease(engine, f"{socket.gethostname()}:999999999:a", clock)
    assert dead.acquire()
    assert Lease(engine, "host:2:b", clock).acquire()
