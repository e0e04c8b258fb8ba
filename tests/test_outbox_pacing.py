"""The shared rate budget: bursts are small, no window ever holds more than the limit,
and two budgets on one database (two processes) share the same tokens."""

import threading

import pytest

from opencx_bridge.extensions import db
from opencx_bridge.outbox.pacing import RateBudget, bucket_shape


class Clock:
    def __init__(self):
        self.now = 1_000_000.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock():
    return Clock()


def budget(app, clock, limit=12, window=60.0):
    with app.app_context():
        engine = db.engine
    return RateBudget(engine, lambda: limit, window, clock=clock)


def test_the_bucket_never_allows_more_than_the_limit_per_window():
    for limit in (2, 12, 60, 1000):
        burst, refill = bucket_shape(limit)
        assert burst >= 1 and burst + refill <= limit


def test_a_small_burst_then_one_token_per_refill_interval(app, clock):
    shared = budget(app, clock, limit=12)
    assert shared.try_take() == 0.0  # burst of 1 (12 // 10)
    wait = shared.try_take()
    assert wait == pytest.approx(60 / 11)  # burst 1, refill 11 per minute
    clock.now += wait
    assert shared.try_take() == 0.0


def test_no_sliding_window_ever_holds_more_than_the_limit(app, clock):
    shared = budget(app, clock, limit=12)
    taken = []
    for _ in range(200):
        wait = shared.try_take()
        if wait == 0.0:
            taken.append(clock.now)
        else:
            clock.now += wait
    for start in taken:
        in_window = [t for t in taken if start <= t < start + 60.0]
        assert len(in_window) <= 12


def test_two_processes_share_one_budget(app, clock):
    first, second = budget(app, clock, limit=20), budget(app, clock, limit=20)
    assert first.try_take() == 0.0
    assert second.try_take() == 0.0  # burst of 2 in all
    assert first.try_take() > 0
    assert second.try_take() > 0


def test_drain_empties_the_bucket(app, clock):
    shared = budget(app, clock, limit=1000)
    assert shared.try_take() == 0.0
    shared.drain()
    assert shared.try_take() > 0


def test_acquire_gives_up_when_the_worker_stops(app, clock):
    shared = budget(app, clock, limit=2)
    assert shared.acquire() is True
    stopping = threading.Event()
    stopping.set()
    assert shared.acquire(stopping) is False
