"""The shared rate budget: bursts are small, no window ever holds more than the limit,
a backlog uses over 95 % of every window, two budgets on one database (two processes)
share the same tokens; and the gate in front of it serves the smallest key first."""

import threading
import time

import pytest

from opencx_bridge.extensions import db
from opencx_bridge.outbox.pacing import PriorityGate, RateBudget, bucket_shape


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


@pytest.mark.parametrize("limit", [30, 60, 120, 1000])
def test_a_backlog_uses_over_95_percent_of_each_window(limit):
    _burst, refill = bucket_shape(limit)
    assert refill / limit >= 0.95


def test_a_small_burst_then_one_token_per_refill_interval(app, clock):
    shared = budget(app, clock, limit=12)
    assert shared.try_take() == 0.0  # burst of 1 (12 // 30, at least 1)
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
    first, second = budget(app, clock, limit=60), budget(app, clock, limit=60)
    assert first.try_take() == 0.0
    assert second.try_take() == 0.0  # burst of 2 in all
    assert first.try_take() > 0
    assert second.try_take() > 0


def test_drain_empties_the_bucket(app, clock):
    shared = budget(app, clock, limit=1000)
    assert shared.try_take() == 0.0
    shared.drain()
    assert shared.try_take() > 0


def test_drain_with_retry_after_gives_no_token_before_it(app, clock):
    shared = budget(app, clock, limit=60)
    shared.drain(retry_after=30)
    clock.now += 29.5
    assert shared.try_take() > 0
    clock.now += 1
    assert shared.try_take() == 0.0


def test_spare_tokens_come_only_from_a_full_bucket(app, clock):
    shared = budget(app, clock, limit=60)  # burst 2
    assert shared.try_take(spare_only=True) == 0.0
    assert shared.try_take(spare_only=True) > 0  # one left: kept for whoever comes next
    assert shared.try_take() == 0.0


def test_the_gate_gives_up_when_the_worker_stops(app, clock):
    gate = PriorityGate(budget(app, clock, limit=2))
    assert gate.acquire((0, 0.0)) is True
    stopping = threading.Event()
    stopping.set()
    assert gate.acquire((0, 0.0), stopping) is False
    assert gate.waiting() == 0


def test_the_gate_serves_the_smallest_key_first(app):
    """Five callers wait for an empty budget; tokens then come one at a time and go to the
    customer-facing calls in the order the customers wrote, the rest after them."""
    with app.app_context():
        engine = db.engine
    tokens = threading.Semaphore(0)

    class Dripping:  # a budget that gives a token each time the test releases one
        def try_take(self, spare_only=False):
            return 0.0 if tokens.acquire(blocking=False) else 0.01

    gate = PriorityGate(Dripping())
    served, lock = [], threading.Lock()

    def caller(key):
        assert gate.acquire(key)
        with lock:
            served.append(key)

    keys = [(1, 5.0), (0, 9.0), (2, 1.0), (0, 3.0), (1, 2.0)]
    threads = [threading.Thread(target=caller, args=(key,)) for key in keys]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 5
    while gate.waiting() < len(keys) and time.monotonic() < deadline:
        time.sleep(0.005)
    for _ in keys:
        before = len(served)
        tokens.release()
        while len(served) == before and time.monotonic() < deadline:
            time.sleep(0.005)
    for thread in threads:
        thread.join(5)
    assert served == sorted(keys)
    engine.dispose()
