"""The worker: lanes per conversation, threads that wake on new events, restart safety."""

from datetime import timedelta

import databases
import pytest
from filelock import FileLock
from flows import FixedResponder, Flow
from sqlalchemy import event, func, select

from opencx_bridge.extensions import db
from opencx_bridge.scheduler.prune import prune_dedup_keys
from opencx_bridge.store.models import DedupKey, Event, utcnow
from opencx_bridge.worker import leadership
from opencx_bridge.worker import runner as worker_module
from opencx_bridge.worker.runner import Worker


@pytest.fixture
def flow(app, client, standin, connected):
    return Flow(app, client, standin, connected)


def test_a_conversation_lane_is_held_by_one_thread_at_a_time(app):
    worker = Worker(app, threads=2, responder=FixedResponder())
    assert worker._claim(("event", "c1"))
    assert not worker._claim(("event", "c1"))
    assert worker._claim(("event", "c2"))
    worker._release(("event", "c1"))
    assert worker._claim(("event", "c1"))


def test_events_stored_before_a_restart_are_processed_by_the_next_worker(flow, app, standin):
    cid = flow.conversation()
    flow.customer_says(cid, "sent while the worker was down")
    with app.app_context():
        assert db.session.scalar(select(Event.status)) == "pending"
    restarted = Worker(app, threads=1, responder=FixedResponder())
    while restarted.run_once():  # only the new worker: the old one never ran
        pass
    assert len(flow.replies(cid)) == 1


def test_threads_answer_several_conversations_and_wake_on_new_events(flow, app, standin):
    running = worker_module.start(app)
    try:
        assert worker_module.status(app) == "alive"
        conversations = [flow.conversation() for _ in range(5)]
        for cid in conversations:
            flow.customer_says(cid, "hi")
        standin.wait_for(lambda: all(flow.replies(cid) for cid in conversations), timeout=20)
    finally:
        running.stop()
    assert all(len(flow.replies(cid)) == 1 for cid in conversations)
    assert not running.alive


def test_slow_freshchat_calls_do_not_serialise_conversations(flow, app, standin):
    """Replies are held 20 s: one conversation at a time, the second could not arrive first."""
    standin.delay("POST", "/v2/conversations/*/messages", 20.0)
    running = worker_module.start(app)
    try:
        conversations = [flow.conversation() for _ in range(4)]
        for cid in conversations:
            flow.customer_says(cid, "hi")
        standin.wait_for(lambda: len(standin.calls_to("POST", "/v2/conversations/")) == 4,
                         timeout=15)  # all four held at once
        standin.end_delays()
        standin.wait_for(lambda: all(flow.replies(cid) for cid in conversations), timeout=20)
    finally:
        standin.end_delays()
        running.stop()
    assert all(len(flow.replies(cid)) == 1 for cid in conversations)


def test_old_dedup_keys_are_pruned(app):
    with app.app_context():
        db.session.add(DedupKey(key="old", seen_at=utcnow() - timedelta(hours=25)))
        db.session.add(DedupKey(key="new", seen_at=utcnow()))
        db.session.commit()
        assert prune_dedup_keys() == 1
        assert db.session.scalar(select(func.count()).select_from(DedupKey)) == 1


def test_health_reports_the_worker(app, client):
    assert client.get("/healthz").json["worker"] == "not running in this process"


@pytest.mark.skipif(databases.ON_POSTGRESQL, reason="on PostgreSQL no worker stands by")
def test_a_worker_stands_by_while_another_holds_the_lock_and_does_nothing(flow, app):
    cid = flow.conversation()
    flow.customer_says(cid, "who answers?")
    with app.app_context():
        other = FileLock(leadership.lock_file(db.engine))
    other.acquire()
    worker = Worker(app, threads=1, responder=FixedResponder())
    try:
        assert worker.run_once() is False
        assert worker.standby
        assert flow.replies(cid) == []
        other.release()
        worker._leadership._checked_at = None  # its next check is due
        while worker.run_once():
            pass
        assert not worker.standby
        assert len(flow.replies(cid)) == 1
    finally:
        other.release()
        worker.stop()


# pruning in batches ------------------------------------------------------------------------

def add_keys(prefix: str, count: int, age: timedelta) -> None:
    seen_at = utcnow() - age
    db.session.add_all(DedupKey(key=f"{prefix}{n}", seen_at=seen_at) for n in range(count))
    db.session.commit()


def test_pruning_removes_every_expired_key_and_keeps_the_fresh_ones(app):
    with app.app_context():
        add_keys("old-", 7, timedelta(hours=25))
        add_keys("new-", 3, timedelta(hours=23))
        assert prune_dedup_keys(batch=3, pause=0) == 7
        left = set(db.session.scalars(select(DedupKey.key)))
        assert left == {"new-0", "new-1", "new-2"}


def test_pruning_commits_after_each_batch(app):
    """Each DELETE is its own transaction, so the write lock is free between batches."""
    steps = []

    def statement(conn, cursor, sql, *args):
        if sql.lstrip().upper().startswith("DELETE"):
            steps.append("delete")

    with app.app_context():
        add_keys("old-", 5, timedelta(hours=25))
        event.listen(db.engine, "before_cursor_execute", statement)
        event.listen(db.engine, "commit", lambda conn: steps.append("commit"))
        assert prune_dedup_keys(batch=2, pause=0) == 5
    assert steps[:6] == ["delete", "commit"] * 3  # 2 + 2 + 1 keys
    assert "delete" not in steps[6:]


def test_a_conversation_whose_head_event_waits_is_not_a_lane_until_due(flow, app):
    waiting, ready = flow.conversation(), flow.conversation()
    flow.customer_says(waiting, "first")
    flow.customer_says(waiting, "second")
    flow.customer_says(ready, "hello")
    with app.app_context():
        head = db.session.scalar(select(Event).where(Event.conversation_id == waiting)
                                 .order_by(Event.id))
        head.next_attempt_at = utcnow() + timedelta(seconds=30)  # e.g. a failed read
        db.session.commit()
        assert worker_module._event_lanes() == [ready]
        head.next_attempt_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
        assert worker_module._event_lanes() == [waiting, ready]


def test_a_lane_whose_reply_waits_for_its_event_goes_first(app):
    """Under a backlog the echo of the bridge's own claim must not wait behind every newer
    chat's first read: the reply it holds back is what a customer waits for."""
    from opencx_bridge.store.models import OutboxItem

    with app.app_context():
        for cid in ("older-chat", "claimed-chat"):
            db.session.add(Event(action="message_create", conversation_id=cid,
                                 dedup_key=f"k-{cid}", payload="{}", status="pending"))
        db.session.add(OutboxItem(conversation_id="claimed-chat", kind="reply", body="{}",
                                  idempotency_key="event:1:1"))
        db.session.commit()
        assert worker_module._event_lanes() == ["claimed-chat", "older-chat"]
