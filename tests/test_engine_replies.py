"""The AI agent as a new user tries it: a 4-article FAQ imported, the knowledge-base
responder answering through the real worker, handoffs with their private note."""

from datetime import timedelta
from pathlib import Path

import pytest
from flows import Flow

from opencx_bridge.engine import responders
from opencx_bridge.extensions import db
from opencx_bridge.scheduler import autoresolve
from opencx_bridge.store.models import ChatSession, utcnow

FAQ = Path(__file__).parent / "fixtures" / "kb" / "faq.csv"


class Clock:
    def __init__(self):
        self.now = utcnow()

    def __call__(self):
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def flow(app, client, standin, connected, runner, clock):
    result = runner.invoke(args=["kb", "import", str(FAQ)])
    assert result.exit_code == 0, result.output
    return Flow(app, client, standin, connected, responder=None, clock=clock)


@pytest.fixture(autouse=True)
def kb_responder(flow):
    flow.worker.responder = None  # the responder the settings ask for: the knowledge base


def texts(standin, cid, private=False):
    kind = "private" if private else "normal"
    ai = standin.ai_agent["id"]
    return [m["message_parts"][0]["text"]["content"] for m in standin.messages(cid)
            if m["actor_id"] == ai and m["message_type"] == kind]


def session(app, cid) -> ChatSession:
    with app.app_context():
        row = db.session.scalar(db.select(ChatSession).where(ChatSession.conversation_id == cid))
        db.session.expunge_all()
        return row


def test_a_faq_question_gets_the_articles_answer(flow, standin):
    cid = flow.conversation()
    flow.customer_says(cid, "how long does shipping to canada take")
    flow.run()
    [reply] = texts(standin, cid)
    assert "5-8 business days to Canada" in reply


def test_an_angry_customer_asking_for_a_human_is_handed_off_with_a_note(flow, standin, app,
                                                                       runner):
    cid = flow.conversation(email="angry@example.com")
    flow.customer_says(cid, "how long does shipping to canada take")
    flow.run()
    flow.customer_says(cid, "This is ridiculous, my parcel is lost and nobody helps me!!")
    flow.run()
    flow.customer_says(cid, "I want to talk to a human agent now!")
    flow.run()
    [note] = texts(standin, cid, private=True)
    assert "Summary:" in note and "Customer asked: how long does shipping" in note
    assert "Sentiment: negative" in note
    assert "Reason:" in note
    assert "angry@example.com" in note
    assert f"/sessions/{session(app, cid).id}" in note
    conversation = standin.conversation(cid)
    assert conversation["status"] == "new"
    assert not conversation["assigned_agent_id"]
    before = len(texts(standin, cid))
    flow.customer_says(cid, "hello? anyone?")
    flow.run()
    assert len(texts(standin, cid)) == before
    shown = runner.invoke(args=["sessions", "show", cid]).output
    assert "status: handed_off" in shown


def test_an_unknown_technical_question_is_handed_off_not_answered_wrongly(flow, standin, app):
    cid = flow.conversation()
    flow.customer_says(cid, "my API webhook returns error 502 on kubernetes")
    flow.run()
    [message] = texts(standin, cid)
    assert "member of our team" in message
    assert session(app, cid).handoff_reason.startswith("low confidence")


def test_a_topic_outside_autopilot_topics_is_handed_off(flow, standin, app, runner):
    runner.invoke(args=["settings", "set", "autopilot_topics", "shipping, account"])
    cid = flow.conversation()
    flow.customer_says(cid, "how do I return an item and get a refund?")
    flow.run()
    assert "not in autopilot_topics" in session(app, cid).handoff_reason
    assert "refund" not in texts(standin, cid)[0].lower()


def test_outside_office_hours_the_handoff_names_the_opening_time(flow, standin, runner,
                                                                clock):
    runner.invoke(args=["settings", "set", "office_hours", "mon-fri 09:00-17:00"])
    runner.invoke(args=["settings", "set", "office_hours_timezone", "Europe/Berlin"])
    clock.now = utcnow().replace(year=2026, month=11, day=28, hour=12)  # a Saturday
    cid = flow.conversation()
    flow.customer_says(cid, "I want to talk to a real person")
    flow.run()
    [message] = texts(standin, cid)
    assert "Monday 09:00 (Europe/Berlin)" in message


def test_during_office_hours_in_ai_outside_hours_mode_new_chats_go_to_humans(flow, standin,
                                                                             runner, clock,
                                                                             app):
    runner.invoke(args=["settings", "set", "office_hours", "mon-fri 09:00-17:00"])
    runner.invoke(args=["settings", "set", "office_hours_mode", "ai_outside_hours_only"])
    clock.now = utcnow().replace(year=2026, month=11, day=25, hour=10)  # a Wednesday, UTC
    cid = flow.conversation()
    flow.customer_says(cid, "how long does shipping to canada take")
    flow.run()
    assert session(app, cid).status == "handed_off"
    assert texts(standin, cid, private=True)
    assert not standin.conversation(cid)["assigned_agent_id"]  # never claimed


def answered_with_auto_resolve(flow, runner, minutes: str) -> str:
    """A conversation the AI answered, auto-resolve on after `minutes` of quiet."""
    runner.invoke(args=["settings", "set", "auto_resolve_after_minutes", minutes])
    cid = flow.conversation()
    flow.customer_says(cid, "how long does shipping to canada take")
    flow.run()
    return cid


def test_a_quiet_customer_is_auto_resolved_with_a_note(flow, standin, runner, clock, app):
    cid = answered_with_auto_resolve(flow, runner, "0.05")
    flow.run()
    assert standin.conversation(cid)["status"] == "assigned"
    clock.now += timedelta(seconds=4)  # 0.05 minutes = 3 s
    flow.worker._last_auto_resolve = 0
    flow.run()
    assert standin.conversation(cid)["status"] == "resolved"
    [note] = texts(standin, cid, private=True)
    assert note.startswith("Resolved automatically")
    assert "Sentiment:" in note
    assert session(app, cid).status == "resolved"


def test_a_customer_message_before_the_deadline_cancels_auto_resolve(flow, standin, runner,
                                                                     clock, app):
    cid = answered_with_auto_resolve(flow, runner, "1")
    clock.now += timedelta(seconds=30)
    flow.customer_says(cid, "and how do I reset my password?")
    flow.run()
    clock.now += timedelta(seconds=45)  # 75 s after the first answer, 45 s after the second
    flow.worker._last_auto_resolve = 0
    flow.run()
    assert session(app, cid).status == "open"


def test_a_customer_message_not_yet_processed_holds_off_auto_resolve(flow, standin, runner,
                                                                     clock, app):
    cid = answered_with_auto_resolve(flow, runner, "1")
    flow.customer_says(cid, "and to mexico?")  # stored; the worker has not seen it yet
    with app.app_context():
        assert autoresolve.run_due(clock.now + timedelta(minutes=5)) == 0
    assert session(app, cid).status == "open"


def test_the_factory_builds_the_knowledge_base_responder_by_default(app):
    with app.app_context():
        assert type(responders.build()).__name__ == "KnowledgeBaseResponder"


@pytest.mark.parametrize("changes, reason", [
    ({"responder": "openai_compatible"}, "openai_base_url or openai_model is empty"),
])
def test_a_model_responder_that_cannot_be_built_hands_off_with_the_reason(
        flow, standin, app, runner, changes, reason):
    for key, value in changes.items():
        runner.invoke(args=["settings", "set", key, value])
    cid = flow.conversation()
    flow.customer_says(cid, "how long does shipping to canada take")
    flow.run()
    assert reason in session(app, cid).handoff_reason
