"""Event + session state + settings → decision. Every rule reads as one branch here.

Names of agents come in as a mapping so reasons can say "assigned to Rita Rep".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from opencx_bridge.engine.rules.attachments import with_attachments
from opencx_bridge.engine.rules.types import (
    ASSIGNED_ONLY,
    HANDED_OFF,
    OPEN,
    RESOLVED,
    Assign,
    CancelPendingReplies,
    Decision,
    ReplyToCustomer,
    SessionState,
    Settings,
    TranscriptLine,
)
from opencx_bridge.freshchat.events import Event


def decide(event: Event, state: SessionState, settings: Settings,
           names: Mapping[str, str] | None = None) -> Decision:
    names = names or {}
    if event.kind == "message":
        return _message(event, state, settings, names)
    if event.kind == "assignment":
        return _assignment(event, state, settings, names)
    if event.kind == "resolution":
        return _resolution(event, state, names)
    if event.kind == "reopen":
        return _reopen(event, state, settings)
    if event.kind == "return_to_ai":
        return _return_to_ai(state, settings)
    return Decision(state, "ignore", f"{event.action}: not an event the bridge acts on")


def _name(agent_id: str | None, names: Mapping[str, str]) -> str:
    return names.get(agent_id or "", agent_id or "nobody")


def _message(event: Event, state: SessionState, settings: Settings, names) -> Decision:
    message = event.message
    assert message is not None
    actor_type = (message.actor_type or event.actor_type or "").lower()
    if message.message_type == "system" or actor_type in ("system", "bot"):
        return Decision(state, "ignore", "system message: not customer input")
    if actor_type == "agent":
        return _agent_message(event, state, settings, names)
    line = TranscriptLine("customer", message.text, message.id, message.actor_id or message.user_id,
                          message.attachments)
    said = with_attachments(message.text, message.attachments)  # as the transcript has it
    pending = "\n".join(p for p in (state.pending_question, said) if p)
    state = replace(state, pending_question=pending or said)
    notes: tuple[str, ...] = ()
    if state.status == RESOLVED:
        state = replace(state, status=OPEN, handoff_reason=None)
        notes = ("customer wrote on a resolved conversation: session reopened",)
    decision = _route(state, settings, names)
    return replace(decision, transcript=line, notes=notes + decision.notes)


def _agent_message(event: Event, state: SessionState, settings: Settings, names) -> Decision:
    message = event.message
    agent = message.actor_id or event.actor_id
    if agent == settings.ai_agent_id:
        return Decision(state, "ignore", "our own message came back: not customer input")
    if message.message_type == "private":
        return Decision(state, "ignore",
                        f"private note by {_name(agent, names)}: not customer input")
    line = TranscriptLine("agent", message.text, message.id, agent, message.attachments)
    answered = replace(state, pending_question=None)
    if state.status == HANDED_OFF:
        return Decision(answered, "record", f"{_name(agent, names)} replied", transcript=line)
    reason = f"{_name(agent, names)} replied in Freshchat: a human took over, the AI stays silent"
    actions: tuple = (CancelPendingReplies(),)
    if settings.takeover_assigns_rep and state.assigned_agent_id == settings.ai_agent_id and agent:
        # Ownership visible in Freshchat; assigning it to the AI later is then a real change.
        actions, answered = (*actions, Assign(agent)), replace(answered, assigned_agent_id=agent)
        reason += f"; the conversation is assigned to {_name(agent, names)}"
    return Decision(replace(answered, status=HANDED_OFF, handoff_reason=reason),
                    "act", reason, actions, transcript=line)


def _route(state: SessionState, settings: Settings, names) -> Decision:
    """Should the AI answer the pending question now? Assumes there is one."""
    ai = settings.ai_agent_id
    if state.status == HANDED_OFF:
        return Decision(state, "skip",
                        f"handed off ({state.handoff_reason or 'to a human'}): the AI stays silent")
    if state.status == RESOLVED:
        return Decision(state, "skip", "conversation is resolved")
    if state.assigned_agent_id == ai:
        return _answer(state, "conversation is assigned to the AI agent")
    if state.assigned_agent_id:
        reason = (f"{_mode_label(state)}: conversation is assigned to "
                  f"{_name(state.assigned_agent_id, names)}")
        return Decision(replace(state, status=HANDED_OFF, handoff_reason=reason), "skip", reason)
    if state.routing_mode == ASSIGNED_ONLY:
        return Decision(state, "skip",
                        "assigned-only: conversation is not assigned to the AI agent (unassigned)")
    claimed = replace(state, assigned_agent_id=ai)
    answer = _answer(claimed, "auto: unassigned conversation claimed by the AI agent")
    return replace(answer, actions=(Assign(ai), *answer.actions))


def _answer(state: SessionState, reason: str) -> Decision:
    question = state.pending_question or ""
    return Decision(replace(state, pending_question=None), "act", reason,
                    (ReplyToCustomer(question),))


def _mode_label(state: SessionState) -> str:
    return "assigned-only" if state.routing_mode == ASSIGNED_ONLY else "auto"


def _assignment(event: Event, state: SessionState, settings: Settings, names) -> Decision:
    conversation = event.conversation
    to_agent = event.to_agent_id or (conversation.assigned_agent_id if conversation else None)
    by = _name(event.assignor_id or event.actor_id, names)
    state = replace(state, assigned_agent_id=to_agent)
    if state.status == RESOLVED:
        return Decision(state, "record", f"assigned to {_name(to_agent, names)} while resolved")
    if to_agent == settings.ai_agent_id:
        back = replace(state, status=OPEN, handoff_reason=None)
        if state.pending_question:
            return _answer(back, f"assigned to the AI agent by {by}: answering the pending message")
        return Decision(back, "record", "conversation is assigned to the AI agent")
    if to_agent:
        if state.status == HANDED_OFF:
            return Decision(state, "record", f"assigned to {_name(to_agent, names)}")
        reason = f"assigned to {_name(to_agent, names)} by {by}: a human took over"
        return Decision(replace(state, status=HANDED_OFF, handoff_reason=reason), "act", reason,
                        (CancelPendingReplies(),))
    group = event.to_group_id or (conversation.assigned_group_id if conversation else None)
    where = f"group {group}" if group else "the queue"
    return Decision(state, "record", f"unassigned: back to {where}")


def _resolution(event: Event, state: SessionState, names) -> Decision:
    by = _name(event.by_id or event.actor_id, names) if (event.by_id or event.actor_id) else None
    reason = f"resolved in Freshchat{f' by {by}' if by else ''} ({event.action})"
    resolved = replace(state, status=RESOLVED, pending_question=None)
    return Decision(resolved, "act", reason, (CancelPendingReplies(),))


def _return_to_ai(state: SessionState, settings: Settings) -> Decision:
    """Given back by a person: the AI owns it again and answers a message left waiting."""
    if state.status != HANDED_OFF:
        where = "resolved" if state.status == RESOLVED else "with the AI already"
        return Decision(state, "record", f"return to the AI asked: the conversation is {where}")
    ai = settings.ai_agent_id
    back = replace(state, status=OPEN, handoff_reason=None, assigned_agent_id=ai)
    reason = "returned to the AI"
    if back.pending_question:
        answer = _answer(back, f"{reason}: answering the customer's waiting message")
        return replace(answer, actions=(Assign(ai), *answer.actions))
    return Decision(back, "act", f"{reason}: it answers the customer's next message",
                    (Assign(ai),))


def _reopen(event: Event, state: SessionState, settings: Settings) -> Decision:
    conversation = event.conversation
    assigned = conversation.assigned_agent_id if conversation else state.assigned_agent_id
    if settings.reopen_returns_to_ai:
        back = replace(state, status=OPEN, handoff_reason=None, assigned_agent_id=assigned)
        return Decision(back, "record", "reopened in Freshchat: back with the AI")
    reason = "reopened in Freshchat; reopen_returns_to_ai is off, so humans keep it"
    return Decision(replace(state, status=HANDED_OFF, handoff_reason=reason,
                            assigned_agent_id=assigned), "record", reason)


def answer_later(decision: Decision) -> Decision:
    """The customer wrote again before this message was answered: no reply now; the
    question stays pending, and the next message's decision answers both together."""
    questions = [a.question for a in decision.actions if isinstance(a, ReplyToCustomer)]
    if not questions:
        return decision
    rest = tuple(a for a in decision.actions if not isinstance(a, ReplyToCustomer))
    waiting = replace(decision.state, pending_question="\n".join(questions))
    return replace(decision, state=waiting, actions=rest,
                   reason=f"{decision.reason}; the customer wrote again: answered together "
                          "with the next message")
