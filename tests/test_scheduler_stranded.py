"""Stranded customers: a message that waited stranded_after_minutes with nobody answering is
shown in the inbox and diagnostics, and the team gets one private note per message."""

from datetime import timedelta

import pytest
from dashboard_data import page
from flows import Flow

from opencx_bridge.extensions import db
from opencx_bridge.scheduler import diagnostics, stranded
from opencx_bridge.store import sessions, settings
from opencx_bridge.store.models import ChatSession, Message, utcnow

LATER = timedelta(minutes=11)  # past the default 10


@pytest.fixture
def flow(app, client, standin, connected):
    return Flow(app, client, standin, connected)


@pytest.fixture
def taken_over(flow, standin):
    """The AI answered, a rep took over, then the customer wrote again: nobody answered."""
    cid = flow.conversation()
    flow.customer_says(cid, "where is my parcel?")
    flow.run()
    rep = standin.add_agent("rita@acme.test", "Rita", "Rep")
    message = standin.add_message(cid, actor_type="agent", actor_id=rep["id"], text="On it!")
    flow.post(standin.message_event(message))
    flow.run()
    flow.customer_says(cid, "hello? still there?")
    flow.run()
    return cid, rep


def private_notes(standin, cid):
    return [m["message_parts"][0]["text"]["content"] for m in standin.messages(cid)
            if m["message_type"] == "private"]


def test_a_customer_nobody_answers_is_stranded_after_the_threshold(app, taken_over):
    with app.app_context():
        assert sessions.stranded_count(utcnow()) == 0  # not yet: just written
        assert sessions.stranded_count(utcnow() + LATER) == 1


def test_the_team_is_told_once_per_waiting_message(app, flow, standin, taken_over):
    cid, _ = taken_over
    with app.app_context():
        assert stranded.note_due(utcnow() + LATER) == 1
        assert stranded.note_due(utcnow() + LATER) == 0  # once
    flow.run()
    [note] = [n for n in private_notes(standin, cid) if "Customer waiting" in n]
    assert "nobody assigned is answering" in note
    flow.customer_says(cid, "anyone??")
    flow.run()
    with app.app_context():
        assert stranded.note_due(utcnow() + LATER) == 1  # a new message, a new note


def test_a_human_answer_ends_it(app, flow, standin, taken_over):
    cid, rep = taken_over
    message = standin.add_message(cid, actor_type="agent", actor_id=rep["id"], text="Found it")
    flow.post(standin.message_event(message))
    flow.run()
    with app.app_context():
        assert sessions.stranded_count(utcnow() + LATER) == 0


def test_an_ai_answer_that_never_went_out_leaves_the_customer_stranded(app, flow, standin):
    cid = flow.conversation()
    standin.fail_next("POST", "/v2/conversations/*/messages", 503)
    flow.customer_says(cid, "hello")
    flow.run()  # decided, but the reply failed once and waits for its retry
    with app.app_context():
        assert sessions.stranded_count(utcnow() + LATER) == 1


def test_the_inbox_shows_them_with_a_badge_and_a_tab(app, admin, taken_over):
    cid, _ = taken_over
    with app.app_context():
        row = db.session.scalar(db.select(ChatSession).where(ChatSession.conversation_id == cid))
        for message in db.session.scalars(db.select(Message).where(Message.session_id == row.id)):
            message.created_at -= 2 * LATER  # the whole conversation happened a while ago
        row.last_customer_message_at = utcnow() - LATER
        db.session.commit()
        session_id = row.id
    assert "stranded · 11 min" in page(admin, "/")
    assert f"#{session_id}<" in page(admin, "/?status=stranded")
    assert f"#{session_id}<" not in page(admin, "/?status=resolved")


def test_diagnostics_warn_with_the_count_and_what_to_do(app, taken_over):
    with app.app_context():
        check = next(c for c in diagnostics.run(utcnow() + LATER) if c.id == "stranded")
    assert check.status == "warn"
    assert check.message == "1 customer(s) waiting longer than 10 min with nobody answering"
    assert "Stranded tab" in check.fix


def test_zero_turns_it_off(app, taken_over):
    with app.app_context():
        settings.set_value("stranded_after_minutes", "0")
        assert sessions.stranded_count(utcnow() + timedelta(days=3)) == 0
        assert stranded.note_due(utcnow() + timedelta(days=3)) == 0
