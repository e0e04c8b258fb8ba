"""Hand off now, resolve and retry from the dashboard: the rows they write, and what
Freshchat (the stand-in) sees once the worker has sent them."""

from datetime import datetime

import pytest
from flows import Flow

from opencx_bridge.engine import session_actions
from opencx_bridge.extensions import db
from opencx_bridge.store import settings
from opencx_bridge.store.models import ChatSession, OutboxItem, TimelineEntry, utcnow

WHO = "lead@example.com"


@pytest.fixture
def flow(app, client, standin, connected):
    return Flow(app, client, standin, connected)


@pytest.fixture
def answered(flow):
    """A conversation the AI claimed and answered: open, assigned to the AI agent."""
    cid = flow.conversation(email="casey@example.com")
    flow.customer_says(cid, "My order #1042 never arrived and I am really annoyed.")
    flow.run()
    flow.spare_budget()  # the customer's profile, read once the reply is out
    assert len(flow.replies(cid)) == 1
    return cid


def act(app, cid: str, action, *args, **kwargs):
    with app.app_context():
        row = db.session.scalar(db.select(ChatSession).where(ChatSession.conversation_id == cid))
        result = action(row, *args, **kwargs)
        db.session.commit()
        return result


def session(app, cid: str) -> ChatSession:
    with app.app_context():
        row = db.session.scalar(db.select(ChatSession).where(ChatSession.conversation_id == cid))
        db.session.expunge_all()
        return row


def timeline(app, cid: str) -> list[TimelineEntry]:
    with app.app_context():
        rows = list(db.session.scalars(db.select(TimelineEntry)
                                       .where(TimelineEntry.conversation_id == cid)
                                       .order_by(TimelineEntry.id)))
        db.session.expunge_all()
        return rows


def texts(standin, cid: str, private: bool) -> list[str]:
    kind = "private" if private else "normal"
    return [m["message_parts"][0]["text"]["content"] for m in standin.messages(cid)
            if m["actor_id"] == standin.ai_agent["id"] and m["message_type"] == kind]


# hand off now -----------------------------------------------------------------------------

def test_hand_off_now_does_what_an_ai_handoff_does(app, flow, standin, answered):
    cid = answered
    act(app, cid, session_actions.hand_off, WHO)
    assert [(i.kind, i.status) for i in flow.outbox(cid)][-3:] == [
        ("reply", "pending"), ("note", "pending"), ("unassign", "pending")]
    row = session(app, cid)
    assert row.status == "handed_off"
    assert row.handoff_reason == f"handed off from the dashboard by {WHO}"
    assert row.assigned_agent_id is None and row.auto_resolve_at is None

    flow.run()
    with app.app_context():
        expected = settings.get("handoff_message")
    assert texts(standin, cid, private=False)[-1] == expected
    [note] = texts(standin, cid, private=True)
    assert note.startswith("AI handoff: the AI stepped aside for a human.")
    assert f"Reason: handed off from the dashboard by {WHO}" in note
    assert "Summary: " in note and "Sentiment: negative" in note
    assert "casey@example.com" in note
    assert f"/sessions/{row.id}" in note
    conversation = standin.conversation(cid)
    assert not conversation.get("assigned_agent_id")


def test_the_timeline_says_who_handed_off_and_the_sentiment(app, answered):
    act(app, answered, session_actions.hand_off, WHO)
    entry = timeline(app, answered)[-1]
    assert entry.kind == "decision"
    assert entry.summary == f"handoff: handed off from the dashboard by {WHO}"
    assert '"by": "lead@example.com"' in entry.detail
    assert '"sentiment": "negative (' in entry.detail


def test_an_unassigned_session_is_not_unassigned(app, flow, answered):
    with app.app_context():
        row = db.session.scalar(db.select(ChatSession)
                                .where(ChatSession.conversation_id == answered))
        row.assigned_agent_id = None
        db.session.commit()
    act(app, answered, session_actions.hand_off, WHO)
    assert [i.kind for i in flow.outbox(answered)][-2:] == ["reply", "note"]
    assert "unassign" not in [i.kind for i in flow.outbox(answered)]


def test_queued_ai_replies_are_cancelled(app, flow, standin):
    cid = flow.conversation()
    flow.customer_says(cid, "Hello?")
    flow.worker.run_once()  # the event is processed; its rows are not all sent yet
    with app.app_context():
        db.session.add(OutboxItem(conversation_id=cid, kind="reply", body="{}",
                                  idempotency_key="queued-reply"))
        db.session.commit()
    act(app, cid, session_actions.hand_off, WHO)
    queued = [i for i in flow.outbox(cid) if i.idempotency_key == "queued-reply"]
    assert queued[0].status == "cancelled"
    assert '"cancelled_replies"' in timeline(app, cid)[-1].detail


def test_outside_office_hours_the_offline_message_names_the_opening(app, flow, standin,
                                                                   answered):
    with app.app_context():
        settings.set_value("office_hours", "mon-fri 09:00-17:00")
        settings.set_value("office_hours_timezone", "UTC")
        db.session.commit()
    saturday = datetime(2026, 11, 28, 12, 0)
    act(app, answered, session_actions.hand_off, WHO, now=saturday)
    flow.run()
    message = texts(standin, answered, private=False)[-1]
    assert message.startswith("Our team is offline right now.")
    assert "Monday 09:00" in message


@pytest.mark.parametrize("status", ["handed_off", "resolved"])
def test_only_a_session_the_ai_handles_can_be_handed_off(app, flow, answered, status):
    with app.app_context():
        db.session.scalar(db.select(ChatSession)
                          .where(ChatSession.conversation_id == answered)).status = status
        db.session.commit()
    before = len(flow.outbox(answered))
    with pytest.raises(session_actions.ActionError, match="only a session the AI is handling"):
        act(app, answered, session_actions.hand_off, WHO)
    assert len(flow.outbox(answered)) == before


def test_hand_off_needs_a_connection(app, runner, flow, answered):
    assert runner.invoke(args=["freshchat", "disconnect"]).exit_code == 0
    with pytest.raises(session_actions.ActionError, match="not connected to Freshchat"):
        act(app, answered, session_actions.hand_off, WHO)
    assert session(app, answered).status == "open"


# resolve ----------------------------------------------------------------------------------

@pytest.mark.parametrize("status", ["open", "handed_off"])
def test_resolve_resolves_in_freshchat_and_here(app, flow, standin, answered, status):
    with app.app_context():
        db.session.scalar(db.select(ChatSession)
                          .where(ChatSession.conversation_id == answered)).status = status
        db.session.commit()
    act(app, answered, session_actions.resolve, WHO)
    row = session(app, answered)
    assert row.status == "resolved" and row.resolved_at is not None
    assert flow.outbox(answered)[-1].kind == "resolve"
    assert timeline(app, answered)[-1].summary == f"resolved from the dashboard by {WHO}"
    flow.run()
    assert standin.conversation(answered)["status"] == "resolved"


def test_a_resolved_session_cannot_be_resolved_again(app, answered):
    act(app, answered, session_actions.resolve, WHO)
    with pytest.raises(session_actions.ActionError, match="already resolved"):
        act(app, answered, session_actions.resolve, WHO)


# retry ------------------------------------------------------------------------------------

def failed_call(app, cid: str) -> int:
    with app.app_context():
        item = OutboxItem(conversation_id=cid, kind="resolve", body='{"status": "resolved"}',
                          idempotency_key=f"failed:{cid}", status="failed", attempts=7,
                          last_status=400, last_error="bad request")
        db.session.add(item)
        db.session.commit()
        return item.id


def test_retry_sends_a_failed_call_again(app, flow, standin, answered):
    item_id = failed_call(app, answered)
    act(app, answered, session_actions.retry, item_id, WHO)
    item = next(i for i in flow.outbox(answered) if i.id == item_id)
    assert (item.status, item.attempts) == ("pending", 0)
    assert item.retried_at is not None and item.next_attempt_at <= utcnow()
    assert f"call #{item_id}" in timeline(app, answered)[-1].summary
    flow.run()
    assert next(i for i in flow.outbox(answered) if i.id == item_id).status == "sent"
    assert standin.conversation(answered)["status"] == "resolved"


def test_retry_refuses_a_call_that_did_not_fail(app, flow, answered):
    sent = flow.outbox(answered)[-1]
    with pytest.raises(session_actions.ActionError, match="is sent, not failed"):
        act(app, answered, session_actions.retry, sent.id, WHO)


def test_retry_refuses_another_conversations_call(app, flow, answered):
    other = flow.conversation()
    flow.customer_says(other, "hi")
    item_id = failed_call(app, other)
    with pytest.raises(session_actions.ActionError, match=f"no Freshchat call #{item_id}"):
        act(app, answered, session_actions.retry, item_id, WHO)
    assert next(i for i in flow.outbox(other) if i.id == item_id).status == "failed"


def test_calls_lists_the_conversations_writes_newest_first(app, flow, answered):
    with app.app_context():
        listed = session_actions.calls(answered)
        assert [i.id for i in listed] == sorted((i.id for i in listed), reverse=True)
        assert {i.conversation_id for i in listed} == {answered}
        assert [i.kind for i in reversed(listed)] == ["assign", "reply"]


# -- return to the AI ---------------------------------------------------------------------------

def rep_writes(flow, standin, cid, text="Rita here, let me look."):
    rep = standin.add_agent(f"rita{len(standin.calls)}@acme.test", "Rita", "Rep")
    message = standin.add_message(cid, actor_type="agent", actor_id=rep["id"], text=text)
    assert flow.post(standin.message_event(message)).status_code == 200
    flow.run()
    return rep


def assignments(standin, cid):
    return [c["json"].get("assigned_agent_id") for c in standin.calls
            if c["method"] == "PUT" and cid in c["path"] and c["json"]
            and "assigned_agent_id" in c["json"]]


def test_a_rep_who_writes_takes_the_conversation_and_gets_it_assigned(app, flow, standin,
                                                                      answered):
    rep = rep_writes(flow, standin, answered)
    row = session(app, answered)
    assert row.status == "handed_off" and row.assigned_agent_id == rep["id"]
    assert assignments(standin, answered)[-1] == rep["id"]  # ownership visible in Freshchat
    assert standin.conversation(answered)["assigned_agent_id"] == rep["id"]


def test_with_takeover_assigns_rep_off_the_assignment_stays(app, flow, standin, answered):
    with app.app_context():
        settings.set_value("takeover_assigns_rep", "false")
    rep_writes(flow, standin, answered)
    assert session(app, answered).status == "handed_off"
    assert standin.conversation(answered)["assigned_agent_id"] == standin.ai_agent["id"]


def test_return_to_ai_answers_the_message_left_waiting(app, flow, standin, answered):
    rep_writes(flow, standin, answered)
    flow.customer_says(answered, "Hello? Is anyone still there?")
    flow.run()
    assert len(flow.replies(answered)) == 1  # the AI stays silent while the rep has it
    act(app, answered, session_actions.return_to_ai, WHO)
    flow.run()
    row = session(app, answered)
    assert row.status == "open" and row.handoff_reason is None
    assert standin.conversation(answered)["assigned_agent_id"] == standin.ai_agent["id"]
    assert len(flow.replies(answered)) == 2  # the waiting message got its answer
    flow.customer_says(answered, "Thanks, and one more thing")
    flow.run()
    assert len(flow.replies(answered)) == 3


def test_return_to_ai_after_the_rep_answered_waits_for_the_next_message(app, flow, standin,
                                                                        answered):
    rep_writes(flow, standin, answered)  # a human takes over
    flow.customer_says(answered, "still waiting")
    flow.run()
    rep_writes(flow, standin, answered, "Here is your answer.")  # nothing left unanswered
    act(app, answered, session_actions.return_to_ai, WHO)
    flow.run()
    assert session(app, answered).status == "open"
    assert len(flow.replies(answered)) == 1
    flow.customer_says(answered, "ok, another question")
    flow.run()
    assert len(flow.replies(answered)) == 2


def test_only_a_handed_off_session_can_be_returned(app, answered):
    with pytest.raises(session_actions.ActionError, match="only a handed-off session"):
        act(app, answered, session_actions.return_to_ai, WHO)


def test_assigning_it_to_the_ai_in_freshchat_gives_it_back(app, flow, standin, answered):
    rep_writes(flow, standin, answered)
    flow.customer_says(answered, "are you there?")
    flow.run()
    rep = session(app, answered).assigned_agent_id
    standin.assign(answered, standin.ai_agent["id"], by_agent_id=rep)  # in the agent view
    conversation = standin.conversation(answered)
    event = standin.assignment_event(conversation, to_agent_id=standin.ai_agent["id"],
                                     from_agent_id=rep, assignor_id=rep)
    assert flow.post(event).status_code == 200  # tests deliver the webhooks by hand
    flow.run()
    assert session(app, answered).status == "open"
    assert len(flow.replies(answered)) == 2



# -- handoff to a group -------------------------------------------------------------------------

def test_with_a_handoff_group_a_handoff_assigns_that_group(app, flow, standin, answered):
    with app.app_context():
        settings.set_value("handoff_group_id", "grp-support")
    act(app, answered, session_actions.hand_off, WHO)
    flow.run()
    assert standin.conversation(answered)["assigned_group_id"] == "grp-support"
    [note] = [m["message_parts"][0]["text"]["content"] for m in standin.messages(answered)
              if m["message_type"] == "private"]
    assert "Assigned to group: grp-support" in note


def test_a_topic_group_wins_over_the_handoff_group(app, client, standin, connected):
    from flows import FixedResponder

    from opencx_bridge.ai import Answer

    class Billing(FixedResponder):
        def respond(self, question, history):
            return Answer(text="maybe", confidence=0.1, topic="billing")  # low: a handoff

    flow = Flow(app, client, standin, connected, responder=Billing())
    with app.app_context():
        settings.set_value("handoff_group_id", "grp-support")
        settings.set_value("topic_groups", "Billing = grp-billing, shipping=grp-ship")
        assert settings.get("topic_groups") == "billing=grp-billing, shipping=grp-ship"
    cid = flow.conversation()
    flow.customer_says(cid, "why was I charged twice?")
    flow.run()
    assert standin.conversation(cid)["assigned_group_id"] == "grp-billing"


@pytest.mark.parametrize("value", ["billing", "=grp", "billing=", "a=b, c"])
def test_topic_groups_that_are_not_pairs_are_refused_in_plain_words(app, value):
    with app.app_context(), pytest.raises(settings.SettingError, match="is not topic=GROUP_ID"):
        settings.set_value("topic_groups", value)
