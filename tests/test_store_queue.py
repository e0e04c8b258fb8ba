"""The live queue: conversations waiting for the AI, from their first stored webhook."""

from datetime import timedelta

import pytest
from flows import Flow

from opencx_bridge.extensions import db
from opencx_bridge.store import queue
from opencx_bridge.store.models import Event, OutboxItem, utcnow


@pytest.fixture
def flow(app, client, standin, connected):
    return Flow(app, client, standin, connected)


def test_new_conversations_wait_in_the_order_they_wrote(app, flow):
    cids = [flow.conversation() for _ in range(3)]
    for number, cid in enumerate(cids):
        flow.customer_says(cid, f"question {number}")
    flow.customer_says(cids[0], "and another thing")
    with app.app_context():
        found = queue.waiting(utcnow(), 60)
        assert queue.count() == 3
    assert [row.conversation_id for row in found.rows] == cids
    assert [row.position for row in found.rows] == [1, 2, 3]
    first = found.rows[0]
    assert (first.events, first.replies, first.session_id) == (2, 0, None)
    assert first.preview == "question 0"
    assert found.per_minute == 20  # nothing measured yet: 60 calls a minute at 3 a chat
    assert found.eta_seconds(found.rows[2]) == 9


def test_processed_conversations_leave_the_queue_and_set_the_pace(app, flow, standin):
    cid = flow.conversation()
    flow.customer_says(cid, "hello")
    flow.run()
    with app.app_context():
        found = queue.waiting(utcnow(), 60)
        assert found.rows == [] and queue.count() == 0
        assert found.per_minute == pytest.approx(1 / 5)  # one conversation in five minutes


def test_a_reply_waiting_for_the_rate_budget_counts(app, flow):
    cid = flow.conversation()
    flow.customer_says(cid, "hello")
    flow.run()
    with app.app_context():
        db.session.add(OutboxItem(conversation_id=cid, kind="reply", body="{}",
                                  idempotency_key="later", created_at=utcnow()))
        db.session.add(OutboxItem(conversation_id=cid, kind="note", body="{}",
                                  idempotency_key="note"))  # a note keeps nobody waiting
        db.session.commit()
        found = queue.waiting(utcnow(), 60)
    assert [(r.events, r.replies) for r in found.rows] == [(0, 1)]
    assert found.rows[0].session_id is not None


def test_a_payload_that_does_not_parse_has_no_preview(app):
    with app.app_context():
        db.session.add(Event(action="message_create", conversation_id="odd", dedup_key="o",
                             payload="not json", received_at=utcnow() - timedelta(seconds=5)))
        db.session.commit()
        found = queue.waiting(utcnow(), 60)
    assert [(r.conversation_id, r.preview) for r in found.rows] == [("odd", None)]


def test_the_inbox_shows_the_queue_with_counts(app, flow, admin):
    for number in range(4):
        flow.customer_says(flow.conversation(), f"burst {number}")
    html = admin.get("/?status=waiting").get_data(as_text=True)
    assert html.count("<tr data-conversation=") == 4
    assert '<span class="count" data-count="waiting">4</span>' in html
    assert "burst 0" in html and "about 3 s" in html
    front = admin.get("/").get_data(as_text=True)
    assert "4 conversation(s) waiting for the AI" in front
    flow.run()
    html = admin.get("/?status=waiting").get_data(as_text=True)
    assert "Nobody is waiting for the AI" in html
