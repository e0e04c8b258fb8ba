"""Webhooks first: the worker waits for a quiet moment, but never for long."""

from flows import FixedResponder, Flow

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


def test_no_webhook_lately_means_no_wait():
    time = FakeTime()
    traffic = courtesy.Traffic(time.clock, time.sleep)
    assert traffic.wait_quiet() is True and time.slept == []


def test_a_webhook_in_flight_holds_the_worker_back_at_most_max_wait():
    time = FakeTime()
    traffic = courtesy.Traffic(time.clock, time.sleep)
    with traffic.serving():
        assert traffic.wait_quiet() is False
    assert abs(sum(time.slept) - courtesy.MAX_WAIT) < 1e-9


def test_after_a_webhook_the_worker_waits_for_the_quiet_gap_only():
    time = FakeTime()
    traffic = courtesy.Traffic(time.clock, time.sleep)
    with traffic.serving():
        pass
    time.now += courtesy.QUIET_GAP / 3
    assert traffic.wait_quiet() is True
    assert abs(sum(time.slept) - courtesy.QUIET_GAP * 2 / 3) < 1e-9


def test_the_worker_asks_for_quiet_before_each_step(app, client, standin, connected,
                                                    monkeypatch):
    flow = Flow(app, client, standin, connected)
    asked = []
    monkeypatch.setattr(courtesy.traffic, "wait_quiet", lambda: asked.append(True) or True)
    cid = flow.conversation()
    flow.customer_says(cid, "hello")
    worker = Worker(app, threads=1, responder=FixedResponder())
    while worker.run_once():
        pass
    assert len(flow.replies(cid)) == 1
    assert len(asked) >= 3  # the event, then each outbox row (assign, reply)


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
