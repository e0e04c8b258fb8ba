"""Write a decision down: the session, the transcript, the timeline and the outbox rows,
all in the caller's transaction."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import select

from opencx_bridge.engine import milestones, replies
from opencx_bridge.engine.gather import Facts
from opencx_bridge.engine.rules import Assign, CancelPendingReplies, ReplyToCustomer, reasons
from opencx_bridge.engine.rules import types as engine
from opencx_bridge.engine.rules.attachments import with_attachments
from opencx_bridge.extensions import db
from opencx_bridge.freshchat import links
from opencx_bridge.freshchat.events import Event as ParsedEvent
from opencx_bridge.kb import suggestions
from opencx_bridge.outbox import delivery
from opencx_bridge.store import contacts, settings, timeline, transcript
from opencx_bridge.store.models import ChatSession, Event, Message, utcnow

HANDOFF_TITLE = "AI handoff: the AI stepped aside for a human."


def save_session(session, parsed: ParsedEvent, facts: Facts, decision, domain: str):
    if session is None:
        session = ChatSession(conversation_id=parsed.conversation_id,
                              routing_mode=decision.state.routing_mode)
        db.session.add(session)
    _copy_ids(session, parsed, facts.conversation or {})
    session.freshchat_url = links.conversation_url(
        domain, session.app_id, session.conversation_id, session.freshchat_conversation_id,
        settings.get("freshchat_link_address"))
    state = decision.state
    before = session.status
    session.status = state.status
    session.assigned_agent_id = state.assigned_agent_id
    session.assigned_agent_name = facts.names.get(state.assigned_agent_id or "")
    session.pending_question = state.pending_question
    session.awaiting_reply = state.pending_question is not None
    session.handoff_reason = state.handoff_reason
    if state.status != engine.HANDED_OFF:
        session.gap_question = None  # back with the AI, or resolved: no human answer to pair
    if state.status != engine.OPEN or decision.transcript is not None:
        session.auto_resolve_at = None  # the customer spoke, or the AI is no longer in charge
    if state.status == engine.RESOLVED and session.resolved_at is None:
        session.resolved_at = utcnow()
    elif state.status != engine.RESOLVED:
        session.resolved_at = None
    milestones.status_changed(session, before, utcnow())
    if facts.user_id and session.contact_id is None:
        session.freshchat_user_id = facts.user_id
        if facts.user is not None or contacts.known_contact_id(facts.user_id) is not None:
            session.contact_id = contacts.link_user(facts.user_id, facts.user)
    if session.id is None:
        db.session.flush()  # a new session: its transcript needs its id
    return session


def _copy_ids(session: ChatSession, parsed: ParsedEvent, conversation: dict) -> None:
    sources = [parsed.message, parsed.conversation]
    for field in ("app_id", "channel_id", "freshchat_conversation_id", "freshchat_channel_id"):
        for source in sources:
            value = getattr(source, field, None) if source is not None else None
            value = value or conversation.get(field)
            if value and not getattr(session, field):
                setattr(session, field, str(value))


def apply(event: Event, session: ChatSession, decision: engine.Decision,
          plans: dict[int, replies.Plan], agent_id: str, now: datetime,
          names: Mapping[str, str] | None = None) -> None:
    cid = session.conversation_id
    line = decision.transcript
    _transcript(session, line)
    _offer_suggestion(session, line, names or {})
    kind = {"skip": "skip", "ignore": "ignored"}.get(decision.outcome, "decision")
    timeline.add(cid, kind, decision.reason, {"event_id": event.id, "action": event.action})
    for note in decision.notes:
        timeline.add(cid, "decision", note, {"event_id": event.id})
    handing_off = any(p.is_handoff for p in plans.values())
    if handing_off and any(isinstance(a, Assign) for a in decision.actions):
        session.assigned_agent_id = None  # never claimed: nothing to unassign
    for index, action in enumerate(decision.actions):
        key = f"event:{event.id}:{index}"
        if isinstance(action, Assign) and not handing_off:
            delivery.enqueue(cid, "assign",
                           {"status": "assigned", "assigned_agent_id": action.agent_id}, key)
        elif isinstance(action, ReplyToCustomer):
            _reply(session, plans[index], key, agent_id, now)
        elif isinstance(action, CancelPendingReplies):
            cancelled = delivery.cancel_pending_replies(cid)
            if cancelled:
                timeline.add(cid, "decision", f"{cancelled} queued AI reply(s) cancelled")


def _offer_suggestion(session: ChatSession, line, names: Mapping[str, str]) -> None:
    """A human's reply in a conversation the AI handed off answers the question it could not."""
    if line is None or line.author != "agent" or session.status != engine.HANDED_OFF:
        return
    if suggestions.pair(session, line.text, names.get(line.actor_id or "")):
        timeline.add(session.conversation_id, "decision", "the reply to the question the AI "
                     "handed off is offered as a knowledge-base suggestion")


def _transcript(session: ChatSession, line) -> None:
    if line is None or _message_known(line.message_id):
        return
    text = with_attachments(line.text, line.attachments)
    transcript.add(session, line.author, text, line.actor_id, line.message_id)


def _reply(session: ChatSession, plan: replies.Plan, key: str, agent_id: str,
           now: datetime) -> None:
    cid = session.conversation_id
    answer = plan.answer
    detail = {"confidence": answer.confidence, "topic": answer.topic} if answer else {}
    if not plan.is_handoff:
        delivery.enqueue(cid, "reply", delivery.message_body(plan.text, agent_id), key)
        session.auto_resolve_at = replies.auto_resolve_deadline(now)
        timeline.add(cid, "decision", "AI answers" + (
            f" (confidence {answer.confidence:.2f}, topic {answer.topic or '-'})" if answer
            else ""), detail)
        return
    hand_off(session, plan.reason, plan.text, plan.turns, agent_id, key, plan.summary,
             answer.topic if answer else None)
    suggestions.remember_gap(session, reasons.kind(plan.reason),
                             plan.turns[-1].text if plan.turns else None)
    timeline.add(cid, "decision", f"handoff: {plan.reason}", detail)


def hand_off(session: ChatSession, reason: str, text: str, turns, agent_id: str, key: str,
             summary: str | None = None, topic: str | None = None) -> None:
    """A handoff, in order: the customer-visible message, the private note (summary,
    sentiment, reason, contact, link), unassign when assigned (to the topic's or the handoff
    group when one is set); the session is handed off."""
    cid = session.conversation_id
    group = replies.handoff_group(topic)
    note = replies.note_text(HANDOFF_TITLE, reason, turns, session, summary, group)
    delivery.enqueue(cid, "reply", delivery.message_body(text, agent_id), key + ":message")
    delivery.enqueue(cid, "note", delivery.message_body(note, agent_id, private=True),
                     key + ":note")
    if session.assigned_agent_id or group:  # to the group's queue, else the unassigned one
        body = {"status": "new", "assigned_agent_id": ""}
        delivery.enqueue(cid, "unassign", {**body, "assigned_group_id": group} if group else body,
                         key + ":unassign")
    milestones.handed_off(session, reason, utcnow())
    session.status, session.handoff_reason = engine.HANDED_OFF, reason
    session.assigned_agent_id = session.assigned_agent_name = None
    session.pending_question, session.awaiting_reply = None, False
    session.auto_resolve_at = None


def resolve(session: ChatSession, key: str, now: datetime) -> None:
    """Resolve in Freshchat (PUT status resolved) and here; the caller adds the timeline."""
    delivery.enqueue(session.conversation_id, "resolve", {"status": "resolved"}, key)
    milestones.resolved(session, now)
    session.status, session.resolved_at, session.auto_resolve_at = engine.RESOLVED, now, None
    session.pending_question, session.awaiting_reply = None, False


def _message_known(message_id: str) -> bool:
    return db.session.scalar(
        select(Message.id).where(Message.freshchat_message_id == message_id)) is not None
