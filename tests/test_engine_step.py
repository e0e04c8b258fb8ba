"""Processing one event: facts read from Freshchat, the decision, its effects in one commit."""

import json
from datetime import timedelta

import pytest
from flows import FixedResponder, Flow
from sqlalchemy import select

from opencx_bridge.ai import Answer, ResponderError
from opencx_bridge.engine import step
from opencx_bridge.extensions import db
from opencx_bridge.freshchat.signature import sign
from opencx_bridge.store import settings, timeline
from opencx_bridge.store.models import ChatSession, Contact, Event, Message, utcnow


@pytest.fixture
def flow(app, client, standin, connected):
    return Flow(app, client, standin, connected)


def session_of(app, cid) -> ChatSession:
    with app.app_context():
        row = db.session.scalar(select(ChatSession).where(ChatSession.conversation_id == cid))
        db.session.expunge_all()
        return row


def test_a_new_session_stores_ids_link_contact_and_transcript(flow, app, standin):
    cid = flow.conversation(email="Casey@Example.com")
    flow.customer_says(cid, "where is my parcel?")
    flow.run()
    flow.spare_budget()  # the profile is read when the budget has room: after the reply
    calls = [(c["method"], c["path"].split("/")[2]) for c in standin.calls
             if c["path"].startswith(("/v2/conversations", "/v2/users"))]
    assert calls == [("GET", "conversations"), ("PUT", "conversations"),
                     ("POST", "conversations"), ("GET", "users")]
    conversation = standin.conversation(cid)
    row = session_of(app, cid)
    assert row.status == "open"
    assert row.app_id == conversation["app_id"]
    assert row.freshchat_conversation_id == str(conversation["freshchat_conversation_id"])
    assert row.freshchat_url == (f"https://acme.freshchat.com/a/{conversation['app_id']}"
                                 f"/open/conversation/{cid}")
    assert row.assigned_agent_id == standin.ai_agent["id"]
    with app.app_context():
        contact = db.session.get(Contact, row.contact_id)
        assert (contact.email, contact.name) == ("casey@example.com", "Casey Customer")
        authors = [m.author for m in db.session.scalars(select(Message).order_by(Message.id))]
        assert authors == ["customer", "ai"]


def test_an_82_character_legacy_conversation_id_is_stored_answered_and_linked(flow, app,
                                                                              standin):
    standin.legacy_ids = True  # {app_id}_{user_id}_feedback, as older accounts send
    cid = flow.conversation()
    assert len(cid) == 82 and cid.endswith("_feedback")
    flow.customer_says(cid, "where is my parcel?")
    flow.run()
    row = session_of(app, cid)
    assert row.conversation_id == cid and row.status == "open"
    assert row.freshchat_url.endswith(f"/open/conversation/{cid}")
    [reply] = [m for m in standin.messages(cid) if m["actor_type"] == "agent"]
    assert reply["message_parts"][0]["text"]["content"] == FixedResponder.TEXT


def test_with_the_apps_address_pasted_a_new_session_links_by_numbers(flow, app, standin):
    address = "https://web.freshchat.com/a/153370844780746/open/conversation/1"
    with app.app_context():
        settings.set_value("freshchat_link_address", address)
    cid = flow.conversation()
    flow.customer_says(cid, "where is my parcel?")
    flow.run()
    number = standin.conversation(cid)["freshchat_conversation_id"]
    assert session_of(app, cid).freshchat_url == (
        f"https://web.freshchat.com/a/153370844780746/open/conversation/{number}")


def test_the_customer_is_fetched_once(flow, standin):
    cid = flow.conversation(email="once@example.com")
    flow.customer_says(cid, "one")
    flow.run()
    flow.spare_budget()
    flow.customer_says(cid, "two")
    flow.run()
    flow.spare_budget()
    assert len(standin.calls_to("GET", "/v2/users/")) == 1


def test_the_timeline_tells_the_story(flow, app):
    cid = flow.conversation()
    flow.customer_says(cid, "hello")
    flow.run()
    with app.app_context():
        entries = [(e.kind, e.summary) for e in timeline.entries(cid)]
    kinds = [kind for kind, _ in entries]
    assert kinds[0] == "event"
    assert ("decision", "auto: unassigned conversation claimed by the AI agent") in entries
    calls = [summary for kind, summary in entries if kind == "call"]
    assert any(s.startswith("GET /conversations/") for s in calls)
    assert any(s.startswith("PUT /conversations/") and "→ 200" in s for s in calls)
    assert any(s.startswith("POST /conversations/") and "→ 201" in s for s in calls)


def test_a_failed_read_postpones_the_event_instead_of_guessing(flow, app, standin):
    cid = flow.conversation()
    standin.fail_next("GET", "/v2/conversations/*", 503)
    flow.customer_says(cid, "hello")
    flow.run()
    with app.app_context():
        event = db.session.scalar(select(Event))
        assert (event.status, event.attempts) == ("pending", 1)
        assert "Freshchat read failed" in event.error
    assert flow.replies(cid) == []
    flow.time_passes(400)
    flow.run()
    assert len(flow.replies(cid)) == 1


def test_a_later_event_waits_for_an_earlier_one_of_the_same_conversation(flow, app, standin):
    cid = flow.conversation()
    standin.fail_next("GET", "/v2/conversations/*", 503)
    flow.customer_says(cid, "first")
    flow.customer_says(cid, "second")
    flow.run()
    with app.app_context():
        statuses = [e.status for e in db.session.scalars(select(Event).order_by(Event.id))]
    assert statuses == ["pending", "pending"]
    flow.time_passes(400)
    flow.run()
    texts = [m.text for m in _transcript(app, cid) if m.author == "customer"]
    assert texts == ["first", "second"]


def _transcript(app, cid):
    with app.app_context():
        row = db.session.scalar(select(ChatSession).where(ChatSession.conversation_id == cid))
        rows = list(db.session.scalars(select(Message).where(Message.session_id == row.id)
                                       .order_by(Message.id)))
        db.session.expunge_all()
        return rows


class BrokenResponder:
    def __init__(self):
        self.summaries_asked = 0

    def respond(self, question, history):
        raise ResponderError("model is down")

    def summarise(self, turns):
        self.summaries_asked += 1
        raise ResponderError("model is down")


def test_a_responder_failure_hands_off_instead_of_going_silent(app, client, standin,
                                                              connected):
    broken = BrokenResponder()
    flow = Flow(app, client, standin, connected, responder=broken)
    cid = flow.conversation()
    flow.customer_says(cid, "hello")
    flow.run()
    row = session_of(app, cid)
    assert row.status == "handed_off"
    assert row.handoff_reason == "AI unavailable: model is down"
    [message] = flow.replies(cid)
    assert "member of our team" in message["message_parts"][0]["text"]["content"]
    notes = [m for m in standin.messages(cid) if m["message_type"] == "private"]
    assert "Reason: AI unavailable: model is down" in notes[0]["message_parts"][0]["text"][
        "content"]
    assert broken.summaries_asked == 0  # the model that just failed is not asked again


class UnsureModel:
    """Answers with no confidence (so the AI hands off) and summarises; notes whether a write
    transaction was open on the session's connection while it was asked."""

    def __init__(self):
        self.writing_while_asked = []

    def respond(self, question, history):
        self.writing_while_asked.append(_writing())
        return Answer(text="maybe?", confidence=0.0)

    def summarise(self, turns):
        self.writing_while_asked.append(_writing())
        return "The customer asks something the AI is unsure of."


def _writing() -> bool:
    """Anything added but not flushed, or (SQLite) a write transaction open: that holds the
    database's one write lock. (PostgreSQL's claim is a row lock, not checked here.)"""
    if db.session.new or db.session.dirty or db.session.deleted:
        return True
    if db.engine.dialect.name != "sqlite":
        return False
    return db.session.connection().connection.dbapi_connection.in_transaction


def test_the_model_is_asked_for_the_answer_and_the_summary_before_any_write(app, client, standin,
                                                                             connected):
    model = UnsureModel()
    flow = Flow(app, client, standin, connected, responder=model)
    cid = flow.conversation()
    flow.customer_says(cid, "can you do something unusual for me?")
    flow.run()
    assert session_of(app, cid).status == "handed_off"
    notes = [m for m in standin.messages(cid) if m["message_type"] == "private"]
    assert "The customer asks something the AI is unsure of." in notes[0]["message_parts"][0][
        "text"]["content"]
    assert model.writing_while_asked == [False, False]


class EchoResponder:
    def __init__(self):
        self.seen = []

    def respond(self, question, history):
        self.seen.append((question, [t.text for t in history]))
        return Answer(text=f"you said: {question}", confidence=0.9)


class ImageReader(EchoResponder):
    reads_images = True

    def respond(self, question, history, images=()):
        self.seen.append((question, list(images)))
        return Answer(text="I can see the error on your screenshot.", confidence=0.9)


def test_an_image_goes_to_a_responder_that_reads_images(app, client, standin, connected):
    responder = ImageReader()
    flow = Flow(app, client, standin, connected, responder=responder)
    cid = flow.conversation()
    flow.customer_says(cid, parts=[{"image": {"url": "https://cdn.example/error.png"}}])
    flow.run()
    assert responder.seen == [("", ["https://cdn.example/error.png"])]
    assert session_of(app, cid).status == "open"
    [reply] = [m for m in standin.messages(cid) if m["actor_type"] == "agent"]
    assert reply["message_parts"][0]["text"]["content"] == "I can see the error on your screenshot."


def test_words_with_an_image_are_answered_as_words_by_one_that_does_not(app, client, standin,
                                                                        connected):
    responder = EchoResponder()
    flow = Flow(app, client, standin, connected, responder=responder)
    cid = flow.conversation()
    flow.customer_says(cid, "hello")
    flow.run()
    flow.customer_says(cid, parts=[{"text": {"content": "my invoice is wrong"}},
                                   {"file": {"url": "https://cdn.example/inv.pdf",
                                             "name": "inv.pdf"}}])
    flow.run()
    assert responder.seen[-1] == ("my invoice is wrong", ["hello", "you said: hello"])


def test_the_responder_gets_the_question_and_the_history(app, client, standin, connected):
    responder = EchoResponder()
    flow = Flow(app, client, standin, connected, responder=responder)
    cid = flow.conversation()
    flow.customer_says(cid, "first")
    flow.run()
    flow.customer_says(cid, "second")
    flow.run()
    assert responder.seen[-1] == ("second", ["first", "you said: first"])  # earlier turns
    assert [m["message_parts"][0]["text"]["content"] for m in flow.replies(cid)] == \
        ["you said: first", "you said: second"]


def test_an_unparseable_known_event_fails_visibly(flow, app):
    response = flow.post({"action": "message_create", "data": {"message": "not an object"}})
    assert response.status_code == 200
    flow.run()
    with app.app_context():
        event = db.session.scalar(select(Event))
        assert event.status == "failed"
        assert "could not parse" in event.error


def test_a_crashing_event_is_parked_then_failed_not_retried_forever(flow, app, monkeypatch):
    cid = flow.conversation()
    flow.customer_says(cid, "hello")

    def boom(*args, **kwargs):
        raise RuntimeError("bug")

    monkeypatch.setattr(step, "decide", boom)
    for _ in range(step.MAX_CRASHES):
        flow.run()
        flow.time_passes(400)
    with app.app_context():
        event = db.session.scalar(select(Event))
        assert event.status == "failed"
        assert "RuntimeError('bug')" in event.error


def test_a_crash_is_charged_to_the_event_that_crashed_only(flow, app):
    cid = flow.conversation()
    flow.customer_says(cid, "first")
    flow.customer_says(cid, "second")
    with app.app_context():
        first, second = db.session.scalars(select(Event).order_by(Event.id)).all()
        try:
            raise step.EventCrashed(first.id) from RuntimeError("bug")
        except step.EventCrashed as crashed:
            caught = crashed
        first.status = "processed"  # another process settled it meanwhile
        db.session.commit()
        step.park_after_crash(caught)
        assert (second.attempts, second.error) == (0, None)
        assert first.attempts == 0  # settled elsewhere: not charged either
        first.status = "pending"
        db.session.commit()
        step.park_after_crash(caught)
        assert first.attempts == 1 and "RuntimeError('bug')" in first.error


def post_ascii(flow, payload: dict):
    """As a client may send it: a lone surrogate written as the JSON escape \\ud800."""
    raw = json.dumps(payload).encode()
    headers = {"X-Freshchat-Signature": sign(raw, flow.standin.private_key)}
    return flow.client.post(flow.path, data=raw, headers=headers, content_type="application/json")


def test_a_message_with_a_lone_surrogate_is_answered_with_its_text_repaired(app, client,
                                                                            standin, connected):
    flow = Flow(app, client, standin, connected)
    cid = flow.conversation()
    user_id = standin.conversation(cid)["users"][0]["id"]
    message = standin.add_message(cid, actor_type="user", actor_id=user_id,
                                  text="where is my order \ud83d")
    assert post_ascii(flow, standin.message_event(message)).status_code == 200
    flow.run()
    assert len(flow.replies(cid)) == 1  # an answer, not silence
    [customer] = [m for m in _transcript(app, cid) if m.author == "customer"]
    assert customer.text == "where is my order \ufffd"


def test_an_event_older_than_the_dedup_window_is_recorded_and_not_acted_on(app, client,
                                                                            standin, connected):
    flow = Flow(app, client, standin, connected)
    cid = flow.conversation()
    user_id = standin.conversation(cid)["users"][0]["id"]
    message = standin.add_message(cid, actor_type="user", actor_id=user_id, text="hello?")
    replay = standin.message_event(message)
    replay["action_time"] = (utcnow() - timedelta(days=30)).isoformat() + "Z"
    assert flow.post(replay).status_code == 200
    flow.run()
    assert flow.replies(cid) == []
    with app.app_context():
        event = db.session.scalar(select(Event))
        assert event.status == "ignored"
        assert "older than the dedup window" in event.error
        kinds = [(e.kind, e.summary) for e in timeline.entries(cid)]
    assert any(kind == "skip" and "a replay" in summary for kind, summary in kinds)


def test_an_image_only_message_is_handed_off_not_answered_as_an_empty_question(
        app, client, standin, connected):
    flow = Flow(app, client, standin, connected)
    cid = flow.conversation()
    flow.customer_says(cid, parts=[{"image": {"url": "https://cdn.example/screenshot.png"}}])
    flow.run()
    row = session_of(app, cid)
    assert row.status == "handed_off"
    assert row.handoff_reason == "the message has no text the AI can read (an image or a file?)"
    [customer] = [m for m in _transcript(app, cid) if m.author == "customer"]
    assert customer.text == "[image https://cdn.example/screenshot.png]"  # shown in the session


def test_a_backlog_that_waited_here_is_not_taken_for_a_replay(app, client, standin, connected):
    """Stale means old when it arrived: events held back (a rejected token over a weekend)
    are still answered once the worker gets to them."""
    later = utcnow() + timedelta(days=3)
    flow = Flow(app, client, standin, connected, clock=lambda: later)
    cid = flow.conversation()
    flow.customer_says(cid, "hello from friday")
    flow.run()
    assert len(flow.replies(cid)) == 1


# -- what a conversation costs in Freshchat calls (issue: more chats per minute) ----------

def calls_of(standin, cid: str, since: int = 0) -> list[tuple[str, str]]:
    user = standin.conversation(cid)["users"][0]["id"]
    return [(c["method"], "users" if "/users/" in c["path"] else
             "messages" if c["path"].endswith("/messages") else "conversation")
            for c in standin.calls[since:]
            if f"/conversations/{cid}" in c["path"] or c["path"] == f"/v2/users/{user}"]


def test_a_new_conversation_costs_three_calls_and_a_follow_up_one(flow, standin):
    cid = flow.conversation(email="count@example.com")
    flow.customer_says(cid, "where is my parcel?")
    flow.run()
    flow.spare_budget()  # the profile, when the budget has room (after): once per user
    assert calls_of(standin, cid) == [("GET", "conversation"), ("PUT", "conversation"),
                                      ("POST", "messages"), ("GET", "users")]
    before = len(standin.calls)
    flow.customer_says(cid, "and when will it arrive?")
    flow.run()
    flow.spare_budget()
    assert calls_of(standin, cid, before) == [("POST", "messages")]


def test_a_handoff_costs_its_writes_and_one_profile_read(flow, standin):
    cid = flow.conversation(email="Human.Wanted@Example.com")
    flow.customer_says(cid, "I want to talk to a human")
    flow.run()
    flow.spare_budget()
    calls = calls_of(standin, cid)
    # a new conversation: its one read; then the profile the note needs, the message, the note
    # (nothing to unassign: the AI never claimed it)
    assert calls == [("GET", "conversation"), ("GET", "users"), ("POST", "messages"),
                     ("POST", "messages")]
    [note] = [m for m in standin.messages(cid) if m["message_type"] == "private"]
    text = note["message_parts"][0]["text"]["content"]
    assert "human.wanted@example.com" in text and "Casey Customer" in text


def test_a_handoff_of_a_claimed_conversation_adds_the_unassign(flow, standin):
    cid = flow.conversation(email="later@example.com")
    flow.customer_says(cid, "hello")
    flow.run()
    flow.spare_budget()  # the profile is known by now
    before = len(standin.calls)
    flow.customer_says(cid, "I want to talk to a human")
    flow.run()
    assert calls_of(standin, cid, before) == [("POST", "messages"), ("POST", "messages"),
                                              ("PUT", "conversation")]


class RecordingResponder:
    def __init__(self):
        self.questions = []

    def respond(self, question, history):
        self.questions.append(question)
        return Answer(text="All three answered.", confidence=1.0)


def test_a_burst_of_short_messages_gets_one_reply_after_the_quiet_time(app, client, standin,
                                                                      connected, runner):
    assert runner.invoke(args=["settings", "set", "reply_debounce_seconds", "3"]).exit_code == 0
    responder = RecordingResponder()
    flow = Flow(app, client, standin, connected, responder=responder)
    cid = flow.conversation()
    for text in ("hi", "my parcel", "it has not arrived"):
        flow.customer_says(cid, text)
    flow.run()
    assert flow.replies(cid) == []  # quiet for 3 s after each message first
    with app.app_context():
        for row in db.session.scalars(select(Event)):
            row.received_at -= timedelta(seconds=10)
            row.next_attempt_at = None
        db.session.commit()
    flow.run()
    assert len(flow.replies(cid)) == 1
    assert responder.questions == ["hi\nmy parcel\nit has not arrived"]
    with app.app_context():
        reasons = [e.summary for e in timeline.entries(cid) if e.kind == "decision"]
    assert sum("answered together with the next message" in r for r in reasons) == 2
