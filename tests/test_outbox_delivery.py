"""Delivery: ordered per conversation, retried when Freshchat may recover, paused on 401."""

from datetime import timedelta

import pytest
from conftest import connect_args
from flows import Flow

from opencx_bridge.engine import step
from opencx_bridge.extensions import db
from opencx_bridge.outbox import delivery
from opencx_bridge.outbox.delivery import reset_in_flight, retry_delay
from opencx_bridge.store import integration
from opencx_bridge.store.models import OutboxItem, utcnow


@pytest.fixture
def flow(app, client, standin, connected):
    return Flow(app, client, standin, connected)


def test_backoff_grows_with_jitter_and_is_capped():
    assert retry_delay(1, rand=lambda: 1.0) == 1.0
    assert retry_delay(3, rand=lambda: 1.0) == 4.0
    assert retry_delay(3, rand=lambda: 0.0) == 2.0
    assert retry_delay(30, rand=lambda: 1.0) == 300.0


def test_retry_after_is_a_floor():
    assert retry_delay(1, retry_after=7, rand=lambda: 1.0) == 7
    assert retry_delay(10, retry_after=2, rand=lambda: 1.0) == 300.0


def test_assignment_goes_out_before_the_reply(flow, standin):
    cid = flow.conversation()
    flow.customer_says(cid, "hello")
    flow.run()
    kinds = [row.kind for row in flow.outbox(cid)]
    assert kinds == ["assign", "reply"]
    writes = [c["method"] for c in standin.calls if cid in c["path"] and c["method"] != "GET"]
    assert writes == ["PUT", "POST"]
    assert len(flow.replies(cid)) == 1


def test_503_three_times_then_one_reply(flow, standin):
    cid = flow.conversation()
    standin.fail_next("POST", "/v2/conversations/*/messages", 503, times=3)
    flow.customer_says(cid, "hello")
    for _ in range(3):
        flow.run()
        assert flow.replies(cid) == []
        flow.time_passes(400)
    flow.run()
    assert len(flow.replies(cid)) == 1
    reply = flow.outbox(cid)[-1]
    assert (reply.status, reply.attempts) == ("sent", 4)


def test_429_waits_at_least_retry_after(flow, standin):
    cid = flow.conversation()
    standin.fail_next("PUT", "/v2/conversations/*", 429, retry_after=30)
    flow.customer_says(cid, "hello")
    before = utcnow()
    flow.run()
    assign, reply = flow.outbox(cid)
    assert assign.status == "pending" and assign.last_status == 429
    assert assign.next_attempt_at >= before + timedelta(seconds=30)
    assert reply.status == "pending" and reply.attempts == 0  # order kept: waits behind it
    flow.time_passes(29)
    flow.run()
    assert flow.replies(cid) == []
    flow.time_passes(2)
    flow.run()
    assert len(flow.replies(cid)) == 1


def test_a_permanent_error_fails_the_row_and_says_why(flow, standin, app):
    cid = flow.conversation()
    standin.fail_next("POST", "/v2/conversations/*/messages", 400,
                      body={"code": 400, "status": "BAD_REQUEST", "message": "message too long"})
    flow.customer_says(cid, "hello")
    flow.run()
    reply = flow.outbox(cid)[-1]
    assert reply.status == "failed"
    assert "message too long" in reply.last_error


def test_a_rotated_token_pauses_delivery_until_a_new_one_is_saved(flow, standin, app, runner):
    cid = flow.conversation()
    standin.rotate_token("new-token")
    flow.customer_says(cid, "hello")
    flow.run()
    flow.time_passes(400)
    flow.run()
    assert flow.replies(cid) == []
    status = runner.invoke(args=["freshchat", "status"]).output
    assert "status: token rejected" in status
    with app.app_context():
        assert integration.get().unauthorized_since_save >= 1
    result = runner.invoke(args=connect_args(standin, **{"--token": "new-token"}))
    assert result.exit_code == 0, result.output
    flow.time_passes(400)
    flow.run()
    assert len(flow.replies(cid)) == 1
    assert "status: connected" in runner.invoke(args=["freshchat", "status"]).output


def test_a_takeover_cancels_a_reply_that_has_not_gone_out(flow, standin, app):
    cid = flow.conversation()
    standin.fail_next("PUT", "/v2/conversations/*", 503)
    flow.customer_says(cid, "hello")
    flow.run()  # the assignment failed once, so the reply is still queued
    rep = standin.add_agent("rita@acme.test", "Rita", "Rep")
    message = standin.add_message(cid, actor_type="agent", actor_id=rep["id"], text="Rita here")
    flow.post(standin.message_event(message))
    flow.time_passes(400)
    flow.run()
    kinds = {row.kind: row.status for row in flow.outbox(cid)}
    assert kinds["reply"] == "cancelled"
    assert flow.replies(cid) == []


def test_rows_left_in_flight_go_out_again_after_a_restart(flow, standin, app):
    cid = flow.conversation()
    flow.customer_says(cid, "hello")
    with app.app_context():
        step.process_next(cid, flow.worker.responder)
        for row in db.session.scalars(db.select(OutboxItem)):
            row.status = "sending"  # the process died mid-call
        db.session.commit()
        assert reset_in_flight() == 2
    flow.run()
    assert len(flow.replies(cid)) == 1


@pytest.fixture
def app_config():
    return {"FRESHCHAT_TIMEOUT": 0.5}  # the timeout tests wait this long, not 10 s


def test_a_timeout_after_freshchat_stored_the_message_is_not_sent_again(flow, standin):
    cid = flow.conversation()
    standin.delay("POST", "/v2/conversations/*/messages", 1.5, times=1, then_apply=True)
    flow.customer_says(cid, "hello")
    flow.run()
    reply = flow.outbox(cid)[-1]
    assert (reply.status, reply.uncertain) == ("pending", True)
    standin.wait_for(lambda: flow.replies(cid), timeout=5)  # Freshchat did store it
    flow.time_passes(400)
    flow.run()
    reply = flow.outbox(cid)[-1]
    assert reply.status == "sent"
    assert reply.response_id == flow.replies(cid)[0]["id"]
    assert len(flow.replies(cid)) == 1


def test_a_timeout_before_freshchat_stored_it_sends_once_more(flow, standin):
    cid = flow.conversation()
    standin.delay("POST", "/v2/conversations/*/messages", 1.5, times=1, then_apply=False)
    flow.customer_says(cid, "hello")
    flow.run()
    flow.time_passes(400)
    flow.run()
    assert len(flow.replies(cid)) == 1
    assert flow.outbox(cid)[-1].status == "sent"


def test_an_identical_earlier_reply_is_not_mistaken_for_the_lost_one(flow, standin, app):
    cid = flow.conversation()
    flow.customer_says(cid, "first")
    flow.run()
    assert len(flow.replies(cid)) == 1  # the acknowledgement text, sent and recorded
    standin.delay("POST", "/v2/conversations/*/messages", 1.5, times=1, then_apply=False)
    flow.customer_says(cid, "second")
    flow.run()
    flow.time_passes(400)
    flow.run()
    assert len(flow.replies(cid)) == 2  # same text, but the first one was already claimed


def test_customer_visible_replies_go_before_resolutions_of_other_conversations(flow, app):
    first, second = flow.conversation(), flow.conversation()
    with app.app_context():
        delivery.enqueue(first, "resolve", {"status": "resolved"}, "t:1")
        delivery.enqueue(second, "reply", delivery.message_body("hi", "agent"), "t:2")
        db.session.commit()
        assert delivery.lanes() == [second, first]


def test_a_transient_failure_past_the_horizon_is_given_up(flow, standin, app, runner):
    runner.invoke(args=["settings", "set", "delivery_retry_horizon_hours", "0.001"])
    cid = flow.conversation()
    standin.fail_next("POST", "/v2/conversations/*/messages", 503, times=None)
    flow.customer_says(cid, "hello")
    flow.run()
    with app.app_context():
        row = db.session.scalar(db.select(OutboxItem).where(OutboxItem.kind == "reply"))
        row.created_at -= timedelta(hours=1)
        db.session.commit()
    flow.time_passes(400)
    flow.run()
    reply = flow.outbox(cid)[-1]
    assert reply.status == "failed"
    standin.clear_faults()
    with app.app_context():
        assert delivery.retry() == 1
        db.session.commit()
    flow.run()
    assert len(flow.replies(cid)) == 1


def test_a_failure_after_the_claim_does_not_leave_the_row_sending(flow, standin, app,
                                                                  monkeypatch):
    cid = flow.conversation()
    flow.customer_says(cid, "hello")
    with app.app_context():
        step.process_next(cid, flow.worker.responder)
        db.session.commit()

    def broken(*_args):
        raise RuntimeError("a bug after the call")

    monkeypatch.setattr(delivery, "_sent", broken)
    with app.app_context(), pytest.raises(RuntimeError):
        while delivery.deliver_next(cid, owner="me"):
            pass
    with app.app_context():
        row = db.session.scalar(db.select(OutboxItem).where(OutboxItem.attempts > 0))
        assert (row.status, row.uncertain) == ("pending", True)
        assert row.next_attempt_at > utcnow()  # backs off instead of spinning
    monkeypatch.undo()
    flow.time_passes(600)
    flow.run()
    assert len(flow.replies(cid)) == 1  # checked first: the reply that did go out counts


def test_a_row_that_is_no_longer_due_is_not_claimed(app):
    with app.app_context():
        db.session.add(OutboxItem(conversation_id="c", kind="reply", body="{}",
                                  idempotency_key="k",
                                  next_attempt_at=utcnow() + timedelta(seconds=60)))
        db.session.commit()
        row = db.session.scalar(db.select(OutboxItem))
        assert delivery._claim(row, "me") is False  # another worker postponed it meanwhile
        assert row.status == "pending"


def test_while_the_token_is_rejected_nothing_else_is_read_and_a_new_one_resumes_at_once(
        flow, standin, app, runner):
    """At most one rejected read per conversation while paused; after Test & Save the
    waiting messages are answered without waiting out any backoff."""
    first, second, third = flow.conversation(), flow.conversation(), flow.conversation()
    standin.rotate_token("new-token")
    flow.customer_says(first, "hello")
    flow.run()  # the read is refused: delivery pauses
    for cid in (second, third):
        flow.customer_says(cid, "anyone?")
    for _ in range(5):  # minutes pass while nobody has saved a new token
        flow.time_passes(400)
        flow.run()
    rejected = [c for c in standin.calls if c["status"] == 401]
    assert len(rejected) <= 1  # not one per retry, not one per conversation
    result = runner.invoke(args=connect_args(standin, **{"--token": "new-token"}))
    assert result.exit_code == 0, result.output
    flow.run()  # no time passes: everything waiting is due now
    assert [len(flow.replies(cid)) for cid in (first, second, third)] == [1, 1, 1]


def test_a_reply_waits_for_an_event_that_came_while_it_was_computed(flow, standin, app):
    """A rep wrote while the AI's answer was being computed: the answer must not go out
    before that message is read, and then it is cancelled (never over a human)."""
    cid = flow.conversation()
    flow.customer_says(cid, "hello")
    with app.app_context():  # the AI decides (its reply is queued), nothing is sent yet
        assert step.process_next(cid, flow.worker.responder)
        db.session.remove()
    rep = standin.add_agent("rita@acme.test", "Rita", "Rep")
    message = standin.add_message(cid, actor_type="agent", actor_id=rep["id"], text="Rita here")
    assert flow.post(standin.message_event(message)).status_code == 200
    with app.app_context():
        sent = [delivery.deliver_next(cid) for _ in range(3)]  # the assignment only
        db.session.remove()
    assert flow.replies(cid) == []
    flow.run()  # the rep's message is read: a takeover, the queued reply is cancelled
    assert flow.replies(cid) == []
    kinds = {row.kind: row.status for row in flow.outbox(cid)}
    assert kinds["reply"] == "cancelled"
    assert sent[0] is True  # the claim (PUT) went; the reply waited


def test_the_event_a_row_answers_is_read_from_its_key():
    assert delivery._source_event_id("event:42:0") == 42
    assert delivery._source_event_id("event:42:1:message") == 42
    assert delivery._source_event_id("dashboard:3:handoff:2026-12-04T10:00:00") is None
    assert delivery._source_event_id("autoresolve:3:x:note") is None


def test_an_old_stuck_event_does_not_hold_a_reply_back_for_ever(flow, standin, app):
    cid = flow.conversation()
    flow.customer_says(cid, "hello")
    with app.app_context():
        assert step.process_next(cid, flow.worker.responder)
        rep = standin.add_agent("rita@acme.test", "Rita", "Rep")
        message = standin.add_message(cid, actor_type="agent", actor_id=rep["id"], text="x")
        db.session.remove()
    flow.post(standin.message_event(message))
    with app.app_context():
        from opencx_bridge.store.models import Event
        newest = db.session.scalars(db.select(Event).order_by(Event.id.desc())).first()
        newest.received_at -= delivery.NEWER_EVENT_WAIT * 2  # stuck for minutes
        db.session.commit()
        for _ in range(3):
            delivery.deliver_next(cid)
        db.session.remove()
    assert len(flow.replies(cid)) == 1
