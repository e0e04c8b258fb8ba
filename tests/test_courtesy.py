"""Webhooks first: worker steps wait for a quiet moment, but never for long."""

import threading

from flows import FixedResponder, Flow
from waiting import DEADLOCK_GUARD, wait_until

from opencx_bridge import courtesy
from opencx_bridge.worker import Worker


class FakeTime:
    def __init__(self):
        self.now, self.slept = 100.0, []

    def clock(self):
        return self.now

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += seconds


def traffic_and_time():
    time = FakeTime()
    return courtesy.Traffic(time.clock, time.sleep), time


def waited(traffic, time) -> float:
    before = time.now
    with traffic.step():
        pass
    return time.now - before


def test_no_webhook_lately_means_no_wait():
    traffic, time = traffic_and_time()
    assert waited(traffic, time) == 0
    with traffic.serving():
        pass
    time.now += courtesy.IDLE_AFTER
    assert waited(traffic, time) == 0
    assert waited(traffic, time) == 0  # nor for the steps after it


def test_while_webhooks_flow_one_step_per_max_wait_for_all_threads_together():
    traffic, time = traffic_and_time()
    with traffic.serving():
        assert waited(traffic, time) == 0  # no step for long: this one at once
        assert abs(waited(traffic, time) - courtesy.MAX_WAIT) < courtesy.MIN_SLEEP
        assert abs(waited(traffic, time) - courtesy.MAX_WAIT) < courtesy.MIN_SLEEP


def test_after_a_webhook_a_step_waits_for_the_quiet_gap_only():
    traffic, time = traffic_and_time()
    with traffic.serving():
        waited(traffic, time)  # the one step allowed while it is in flight
    time.now += courtesy.QUIET_GAP / 3
    assert abs(waited(traffic, time) - courtesy.QUIET_GAP * 2 / 3) < courtesy.MIN_SLEEP


def test_the_worker_own_steps_are_no_quiet():
    """A webhook waiting for a step to hand over looks like silence: the gap restarts
    after every step, so steps do not follow each other while webhooks come in."""
    traffic, time = traffic_and_time()
    with traffic.serving():
        pass
    time.now += courtesy.QUIET_GAP
    with traffic.step():
        time.now += 0.050  # a long step; the next webhook is held up meanwhile
    assert abs(waited(traffic, time) - courtesy.STEP_GAP) < courtesy.MIN_SLEEP


def test_one_thread_watches_the_clock_the_others_queue_without_waking():
    time, release, sleepers = FakeTime(), threading.Event(), set()

    def sleep(seconds):  # held until the test has looked
        sleepers.add(threading.get_ident())
        release.wait(DEADLOCK_GUARD)
        time.now += courtesy.MAX_WAIT

    traffic = courtesy.Traffic(time.clock, sleep)
    with traffic.serving():  # nothing quiet: only MAX_WAIT lets a step in
        waited(traffic, time)  # the first at once; the next three wait
        threads = [threading.Thread(target=waited, args=(traffic, time)) for _ in range(3)]
        for thread in threads:
            thread.start()
        wait_until(lambda: traffic._queue.waiting == 2 and sleepers, "two queued, one asleep")
        assert len(sleepers) == 1
        release.set()
        for thread in threads:
            thread.join(DEADLOCK_GUARD)
    assert not any(thread.is_alive() for thread in threads)


def test_the_worker_takes_its_turn_before_each_step(app, client, standin, connected,
                                                    monkeypatch):
    flow = Flow(app, client, standin, connected)
    turns = []
    original = courtesy.traffic._wait_turn
    monkeypatch.setattr(courtesy.traffic, "_wait_turn", lambda: turns.append(1) or original())
    cid = flow.conversation()
    flow.customer_says(cid, "hello")
    worker = Worker(app, threads=1, responder=FixedResponder())
    while worker.run_once():
        pass
    assert len(flow.replies(cid)) == 1
    assert len(turns) >= 3  # the event, then each outbox row (assign, reply)


def test_the_intake_counts_the_webhooks_it_answers(app, client, standin, connected,
                                                   monkeypatch):
    flow = Flow(app, client, standin, connected)
    seen = []
    original = courtesy.traffic.serving

    def serving():
        seen.append(True)
        return original()

    monkeypatch.setattr(courtesy.traffic, "serving", serving)
    flow.customer_says(flow.conversation(), "hello")
    assert seen == [True]
