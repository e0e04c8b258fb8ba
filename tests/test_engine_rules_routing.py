"""The conversation rules, read as "this payload in this state gives these actions".

No Flask, no database: real-shaped payloads from tests/fixtures/freshchat in, decisions out.
"""

import json
from dataclasses import replace
from pathlib import Path

import pytest

from opencx_bridge.engine.rules import (
    Assign,
    CancelPendingReplies,
    ReplyToCustomer,
    SessionState,
    Settings,
    decide,
)
from opencx_bridge.engine.rules.types import RETURN_TO_AI
from opencx_bridge.freshchat.events import Event as ParsedEvent
from opencx_bridge.freshchat.events import parse_event

FIXTURES = Path(__file__).parent / "fixtures" / "freshchat"
AI = "5c3e1a9f-7b6d-4e2c-8a1f-3d5b7c9e1f2a"  # the assignment fixture assigns to this agent
REP = "a9b8c7d6-e5f4-4a3b-9c2d-1e0f9a8b7c6d"  # writes the agent message and the private note
NAMES = {AI: "Aiden Bot", REP: "Rita Rep"}
AUTO = Settings(ai_agent_id=AI, auto_handle_all=True)
ASSIGNED_ONLY = Settings(ai_agent_id=AI, auto_handle_all=False)


def event(name: str):
    return parse_event(json.loads((FIXTURES / f"{name}.json").read_text()))


def fresh(settings: Settings = AUTO, **changes) -> SessionState:
    return replace(SessionState(routing_mode=settings.routing_mode), **changes)


def test_customer_message_in_unassigned_conversation_is_claimed_then_answered():
    decision = decide(event("message_create_user"), fresh(), AUTO, NAMES)
    question = "Hi, my order #1042 hasn't arrived yet."
    assert decision.actions == (Assign(AI), ReplyToCustomer(question))
    assert decision.state.assigned_agent_id == AI
    assert decision.state.pending_question is None
    assert decision.transcript.author == "customer"


@pytest.mark.parametrize("name", ["message_create_user_legacy", "message_create_korean_emoji"])
def test_every_customer_message_shape_is_answered(name):
    decision = decide(event(name), fresh(), AUTO, NAMES)
    assert isinstance(decision.actions[-1], ReplyToCustomer)
    assert decision.actions[-1].question


def test_conversation_already_assigned_to_the_ai_is_answered_without_claiming():
    decision = decide(event("message_create_user"), fresh(assigned_agent_id=AI), AUTO, NAMES)
    assert decision.actions == (ReplyToCustomer("Hi, my order #1042 hasn't arrived yet."),)


def test_auto_mode_leaves_a_conversation_assigned_to_someone_else():
    decision = decide(event("message_create_user"), fresh(assigned_agent_id=REP), AUTO, NAMES)
    assert decision.actions == ()
    assert decision.outcome == "skip"
    assert decision.reason == "auto: conversation is assigned to Rita Rep"
    assert decision.state.status == "handed_off"


def test_assigned_only_skips_an_unassigned_conversation_and_keeps_the_question():
    decision = decide(event("message_create_user"), fresh(ASSIGNED_ONLY), ASSIGNED_ONLY, NAMES)
    assert decision.actions == ()
    assert decision.reason.startswith("assigned-only: conversation is not assigned to the AI")
    assert decision.state.pending_question == "Hi, my order #1042 hasn't arrived yet."


def test_assigned_only_names_the_agent_it_is_assigned_to():
    state = fresh(ASSIGNED_ONLY, assigned_agent_id=REP)
    decision = decide(event("message_create_user"), state, ASSIGNED_ONLY, NAMES)
    assert decision.reason == "assigned-only: conversation is assigned to Rita Rep"


def test_assignment_to_the_ai_answers_the_pending_message():
    state = fresh(ASSIGNED_ONLY, pending_question="where is my order?")
    decision = decide(event("conversation_assignment"), state, ASSIGNED_ONLY, NAMES)
    assert decision.actions == (ReplyToCustomer("where is my order?"),)
    assert decision.state.assigned_agent_id == AI
    assert decision.state.pending_question is None


def test_assignment_to_the_ai_without_a_pending_message_only_records():
    decision = decide(event("conversation_assignment"), fresh(assigned_agent_id=AI), AUTO, NAMES)
    assert decision.actions == ()
    assert decision.outcome == "record"


def test_mode_is_the_sessions_own_not_the_current_setting():
    in_flight = fresh(AUTO)  # started while auto handle all was on
    decision = decide(event("message_create_user"), in_flight, ASSIGNED_ONLY, NAMES)
    assert Assign(AI) in decision.actions


def test_our_own_message_coming_back_is_not_customer_input():
    rules = Settings(ai_agent_id=REP)  # the agent fixture's author is the AI here
    decision = decide(event("message_create_agent"), fresh(assigned_agent_id=REP), rules, NAMES)
    assert decision.outcome == "ignore"
    assert decision.actions == ()
    assert decision.transcript is None


def test_a_private_note_is_not_customer_input_nor_a_takeover():
    state = fresh(assigned_agent_id=AI)
    decision = decide(event("message_create_private_note"), state, AUTO, NAMES)
    assert decision.outcome == "ignore"
    assert decision.state.status == "open"


def test_a_rep_writing_is_a_takeover_cancels_queued_replies_and_assigns_the_rep():
    decision = decide(event("message_create_agent"), fresh(assigned_agent_id=AI), AUTO, NAMES)
    assert decision.actions == (CancelPendingReplies(), Assign(REP))
    assert decision.state.status == "handed_off"
    assert decision.state.assigned_agent_id == REP
    assert "Rita Rep replied in Freshchat" in decision.reason
    assert "assigned to Rita Rep" in decision.reason


def test_without_takeover_assigns_rep_the_ai_keeps_the_assignment():
    rules = Settings(ai_agent_id=AI, takeover_assigns_rep=False)
    decision = decide(event("message_create_agent"), fresh(assigned_agent_id=AI), rules, NAMES)
    assert decision.actions == (CancelPendingReplies(),)
    assert decision.state.assigned_agent_id == AI


def test_a_rep_writing_in_a_conversation_assigned_to_someone_else_is_not_reassigned():
    other = "11111111-2222-4333-8444-555555555555"
    decision = decide(event("message_create_agent"), fresh(assigned_agent_id=other), AUTO, NAMES)
    assert decision.actions == (CancelPendingReplies(),)


def test_return_to_ai_assigns_the_ai_and_answers_what_waits():
    waiting = fresh(status="handed_off", assigned_agent_id=REP, pending_question="hello?",
                    handoff_reason="Rita Rep replied")
    decision = decide(bridge_event(), waiting, AUTO, NAMES)
    assert decision.actions == (Assign(AI), ReplyToCustomer("hello?"))
    assert decision.state.status == "open" and decision.state.handoff_reason is None
    quiet = replace(waiting, pending_question=None)
    assert decide(bridge_event(), quiet, AUTO, NAMES).actions == (Assign(AI),)
    assert decide(bridge_event(), fresh(), AUTO, NAMES).outcome == "record"  # with the AI


def bridge_event():
    return ParsedEvent(action=RETURN_TO_AI, kind="return_to_ai", actor_type="agent",
                       actor_id=None, action_time=None, conversation_id="c1")


def test_after_a_takeover_the_ai_stays_silent():
    state = fresh(status="handed_off", assigned_agent_id=AI, handoff_reason="Rita Rep replied")
    decision = decide(event("message_create_user"), state, AUTO, NAMES)
    assert decision.actions == ()
    assert decision.outcome == "skip"
    assert decision.state.pending_question  # a later assignment to the AI would answer it


def test_assignment_to_another_agent_is_a_takeover():
    rules = Settings(ai_agent_id=REP)  # the fixture assigns to 5c3e…, a human here
    decision = decide(event("conversation_assignment"), fresh(assigned_agent_id=REP), rules,
                      {AI: "Rita Rep"})
    assert decision.actions == (CancelPendingReplies(),)
    assert decision.state.status == "handed_off"
    assert decision.reason.startswith("assigned to Rita Rep")


def test_group_only_assignment_records_the_queue():
    decision = decide(event("conversation_assignment_group_only"), fresh(assigned_agent_id=AI),
                      AUTO, NAMES)
    assert decision.state.assigned_agent_id is None
    assert decision.outcome == "record"
    assert decision.state.status == "open"


@pytest.mark.parametrize("name", ["conversation_resolution", "conversation_close"])
def test_resolved_or_closed_in_freshchat_resolves_the_session(name):
    decision = decide(event(name), fresh(assigned_agent_id=AI, pending_question="x"), AUTO, NAMES)
    assert decision.state.status == "resolved"
    assert decision.state.pending_question is None
    assert decision.actions == (CancelPendingReplies(),)


def test_reopen_returns_the_conversation_to_the_ai_by_default():
    decision = decide(event("conversation_reopen"), fresh(status="resolved"), AUTO, NAMES)
    assert decision.state.status == "open"


def test_reopen_stays_with_humans_when_the_setting_is_off():
    rules = Settings(ai_agent_id=AI, reopen_returns_to_ai=False)
    decision = decide(event("conversation_reopen"), fresh(status="resolved"), rules, NAMES)
    assert decision.state.status == "handed_off"
    assert "reopen_returns_to_ai is off" in decision.reason


def test_customer_message_on_a_resolved_conversation_opens_the_session_again():
    state = fresh(status="resolved", assigned_agent_id=AI)
    decision = decide(event("message_create_user"), state, AUTO, NAMES)
    assert decision.state.status == "open"
    assert isinstance(decision.actions[-1], ReplyToCustomer)
    assert any("reopened" in note for note in decision.notes)


def test_unknown_actions_are_ignored():
    decision = decide(event("unknown_action"), fresh(), AUTO, NAMES)
    assert decision.outcome == "ignore"
    assert decision.actions == ()


def test_answer_later_keeps_the_question_and_the_claim():
    from opencx_bridge.engine.rules.routing import answer_later
    from opencx_bridge.engine.rules.types import Assign, Decision, ReplyToCustomer, SessionState

    decision = Decision(SessionState(assigned_agent_id="ai"), "act", "auto: claimed",
                        (Assign("ai"), ReplyToCustomer("hi")))
    later = answer_later(decision)
    assert later.actions == (Assign("ai"),)
    assert later.state.pending_question == "hi"
    assert later.reason.endswith("answered together with the next message")
    untouched = Decision(SessionState(), "skip", "resolved")
    assert answer_later(untouched) is untouched
