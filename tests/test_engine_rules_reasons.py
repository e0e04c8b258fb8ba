"""Every writer of a handoff reason lands on its kind, so no wording slips into "other"."""

import pytest

from opencx_bridge.ai import Answer
from opencx_bridge.engine.rules import reasons
from opencx_bridge.engine.rules.handoff import (
    Conversation,
    HandoffRules,
    reason_after_answering,
    reason_before_answering,
)
from opencx_bridge.engine.rules.routing import decide
from opencx_bridge.engine.rules.types import AUTO, HANDED_OFF, OPEN, SessionState, Settings
from opencx_bridge.freshchat.events import parse_event

RULES = HandoffRules(confidence_threshold=0.5, autopilot_topics="shipping")
AI = "ai-agent"


@pytest.mark.parametrize(("conversation", "rules", "kind"), [
    (Conversation("hi", (), new_session=True, office_open=True),
     HandoffRules(humans_during_office_hours=True), "office_hours"),
    (Conversation("", ()), RULES, "attachment"),
    (Conversation("I want to talk to a human", ()), RULES, "human_asked"),
    (Conversation("This is the worst, I am furious!", ("useless terrible bot",)), RULES,
     "frustration"),
    (Conversation("where is my order?", ("where is my order?",)), RULES, "repeated"),
])
def test_reasons_before_answering(conversation, rules, kind):
    assert reasons.kind(reason_before_answering(conversation, rules)) == kind


@pytest.mark.parametrize(("answer", "error", "kind"), [
    (None, "AI unavailable: timed out", "ai_error"),
    (None, None, "ai_error"),
    (Answer("x", 0.9, wants_human=True), None, "ai_chose"),
    (Answer("x", 0.9, topic="billing"), None, "topic"),
    (Answer("x", 0.2, topic="shipping"), None, "low_confidence"),
])
def test_reasons_after_answering(answer, error, kind):
    assert reasons.kind(reason_after_answering(answer, error, RULES)) == kind


def message_event(actor_type: str, actor_id: str) -> dict:
    return {"action": "message_create", "actor": {"actor_type": actor_type, "actor_id": actor_id},
            "data": {"message": {"id": "m1", "conversation_id": "c1", "actor_type": actor_type,
                                 "actor_id": actor_id, "message_type": "normal",
                                 "message_parts": [{"text": {"content": "hello"}}]}}}


def test_a_rep_replying_while_the_ai_handles_it_is_a_takeover():
    event = parse_event(message_event("agent", "rep-1"))
    decision = decide(event, SessionState(status=OPEN, assigned_agent_id=AI),
                      Settings(ai_agent_id=AI))
    assert decision.state.status == HANDED_OFF
    assert reasons.kind(decision.state.handoff_reason) == reasons.TAKEN_OVER


def test_a_conversation_assigned_to_a_rep_is_not_the_ais():
    event = parse_event(message_event("user", "customer-1"))
    decision = decide(event, SessionState(status=OPEN, routing_mode=AUTO,
                                          assigned_agent_id="rep-1"), Settings(ai_agent_id=AI))
    assert reasons.kind(decision.state.handoff_reason) == "assigned_to_rep"


def test_the_dashboard_and_failure_reasons():
    assert reasons.kind("handed off from the dashboard by ada@example.com") == "dashboard"
    assert reasons.kind("processing failed: database is locked") == "ai_error"
    assert reasons.kind(None) == reasons.kind("something new") == reasons.OTHER


def test_every_kind_has_a_label():
    assert set(reasons.LABELS) == {k for k, _, _ in reasons.KINDS} | {reasons.OTHER}
