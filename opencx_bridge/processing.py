"""Process one stored webhook event: gather facts, decide, apply in one transaction.

The event is marked processed in the same commit as its effects (session, transcript,
timeline, outbox rows), so a crash anywhere before it means the event is simply done again.
"""

from __future__ import annotations

import json
import logging
import threading
from datetime import timedelta

from sqlalchemy import select

from . import api_calls, contacts, integration, outbox, settings, timeline
from .ai import Responder, ResponderError, Turn
from .engine import Assign, CancelPendingReplies, ReplyToCustomer, decide
from .engine import types as engine
from .extensions import db
from .facts import Facts, gather
from .freshchat import errors
from .freshchat.events import Event as ParsedEvent
from .freshchat.events import PayloadError, parse_event
from .models import ChatSession, Event, Message, utcnow

log = logging.getLogger(__name__)
NOT_CONNECTED_RETRY = timedelta(seconds=30)


def head_event(conversation_id: str | None) -> Event | None:
    return db.session.scalar(
        select(Event).where(Event.status == "pending", Event.conversation_id == conversation_id)
        .order_by(Event.id).limit(1)
    )


def process_next(conversation_id: str | None, responder: Responder,
                 stopping: threading.Event | None = None) -> bool:
    """Handle the conversation's oldest pending event if due. True when one was settled."""
    event = head_event(conversation_id)
    if event is None or (event.next_attempt_at and event.next_attempt_at > utcnow()):
        return False
    try:
        parsed = parse_event(json.loads(event.payload))
    except (PayloadError, ValueError) as exc:
        _settle(event, "failed", f"could not parse the payload: {exc}")
        if conversation_id:
            timeline.add(conversation_id, "error", f"{event.action}: could not parse: {exc}")
        db.session.commit()
        return True
    creds = integration.credentials()
    if creds is None:
        _postpone(event, NOT_CONNECTED_RETRY, "not connected to Freshchat")
        db.session.commit()
        return False
    with api_calls.ApiJob(creds, stopping) as job:
        return _process(event, parsed, creds, job, responder)


def _process(event: Event, parsed: ParsedEvent, creds, job, responder: Responder) -> bool:
    cid = parsed.conversation_id
    session = _session(cid)
    try:
        facts = gather(job.client, parsed, session, creds.agent_id, creds.agent_name)
    except errors.FreshchatError as exc:
        api_calls.note_failure(exc)
        delay = outbox.retry_delay(event.attempts + 1, getattr(exc, "retry_after", None))
        _postpone(event, timedelta(seconds=delay), f"Freshchat read failed: {exc.message}")
        job.write_timeline(cid)
        db.session.commit()
        return False
    rules = engine.Settings(ai_agent_id=creds.agent_id,
                            auto_handle_all=integration.get().auto_handle_all,
                            reopen_returns_to_ai=settings.get("reopen_returns_to_ai"))
    state = _state(session, parsed, facts, rules)
    decision = decide(parsed, state, rules, facts.names)
    replies = _answers(decision, session, responder)
    session = _save_session(session, parsed, facts, decision, creds.domain)
    _apply(event, session, decision, replies, creds.agent_id)
    job.write_timeline(cid)
    _settle(event, "processed")
    db.session.commit()
    return True


def _session(conversation_id: str | None) -> ChatSession | None:
    if not conversation_id:
        return None
    return db.session.scalar(
        select(ChatSession).where(ChatSession.conversation_id == conversation_id))


def _state(session: ChatSession | None, parsed: ParsedEvent, facts: Facts,
           rules: engine.Settings) -> engine.SessionState:
    if session is not None:
        return engine.SessionState(
            status=session.status, routing_mode=session.routing_mode,
            assigned_agent_id=session.assigned_agent_id,
            pending_question=session.pending_question, handoff_reason=session.handoff_reason)
    conversation = facts.conversation or {}
    assigned = str(conversation.get("assigned_agent_id") or "") or None
    if assigned is None and parsed.conversation is not None:
        assigned = parsed.conversation.assigned_agent_id
    status = str(conversation.get("status") or "").lower()
    return engine.SessionState(
        status=engine.RESOLVED if status in ("resolved", "closed") else engine.OPEN,
        routing_mode=rules.routing_mode, assigned_agent_id=assigned)


def _answers(decision: engine.Decision, session: ChatSession | None,
             responder: Responder) -> dict[int, str]:
    """Ask the responder for each reply the decision wants, outside any transaction."""
    answers: dict[int, str] = {}
    for index, action in enumerate(decision.actions):
        if isinstance(action, ReplyToCustomer):
            try:
                answer = _responder_answer(responder, action.question, session)
            except ResponderError as exc:
                log.warning("responder failed: %s", exc)
                continue
            answers[index] = answer
    return answers


def _responder_answer(responder: Responder, question: str, session: ChatSession | None) -> str:
    history = []
    if session is not None:
        rows = db.session.scalars(select(Message).where(Message.session_id == session.id)
                                  .order_by(Message.id.desc()).limit(20))
        history = [Turn(row.author, row.text) for row in reversed(list(rows))]
    return responder.respond(question, history).text


def _save_session(session, parsed: ParsedEvent, facts: Facts, decision, domain: str):
    if session is None:
        session = ChatSession(conversation_id=parsed.conversation_id,
                              routing_mode=decision.state.routing_mode)
        db.session.add(session)
    _copy_ids(session, parsed, facts.conversation or {})
    session.freshchat_url = integration.conversation_url(domain, session.app_id,
                                                         session.conversation_id)
    state = decision.state
    session.status = state.status
    session.assigned_agent_id = state.assigned_agent_id
    session.assigned_agent_name = facts.names.get(state.assigned_agent_id or "")
    session.pending_question = state.pending_question
    session.awaiting_reply = state.pending_question is not None
    session.handoff_reason = state.handoff_reason
    if state.status == engine.RESOLVED and session.resolved_at is None:
        session.resolved_at = utcnow()
    elif state.status != engine.RESOLVED:
        session.resolved_at = None
    if facts.user_id and session.contact_id is None:
        session.freshchat_user_id = facts.user_id
        session.contact_id = contacts.link_user(facts.user_id, facts.user)
    db.session.flush()
    return session


def _copy_ids(session: ChatSession, parsed: ParsedEvent, conversation: dict) -> None:
    sources = [parsed.message, parsed.conversation]
    for field in ("app_id", "channel_id", "freshchat_conversation_id", "freshchat_channel_id"):
        for source in sources:
            value = getattr(source, field, None) if source is not None else None
            value = value or conversation.get(field)
            if value and not getattr(session, field):
                setattr(session, field, str(value))


def _apply(event: Event, session: ChatSession, decision: engine.Decision,
           replies: dict[int, str], agent_id: str) -> None:
    cid = session.conversation_id
    line = decision.transcript
    if line is not None and not _message_known(line.message_id):
        db.session.add(Message(session_id=session.id, freshchat_message_id=line.message_id,
                               author=line.author, actor_id=line.actor_id, text=line.text))
        if line.author == "customer":
            session.last_customer_message_at = utcnow()
    kind = {"skip": "skip", "ignore": "ignored"}.get(decision.outcome, "decision")
    timeline.add(cid, kind, decision.reason, {"event_id": event.id, "action": event.action})
    for note in decision.notes:
        timeline.add(cid, "decision", note, {"event_id": event.id})
    for index, action in enumerate(decision.actions):
        key = f"event:{event.id}:{index}"
        if isinstance(action, Assign):
            outbox.enqueue(cid, "assign",
                           {"status": "assigned", "assigned_agent_id": action.agent_id}, key)
        elif isinstance(action, ReplyToCustomer) and index in replies:
            outbox.enqueue(cid, "reply", outbox.message_body(replies[index], agent_id), key)
        elif isinstance(action, ReplyToCustomer):
            session.pending_question, session.awaiting_reply = action.question, True
            timeline.add(cid, "error", "the responder gave no answer; the message stays unanswered")
        elif isinstance(action, CancelPendingReplies):
            cancelled = outbox.cancel_pending_replies(cid)
            if cancelled:
                timeline.add(cid, "decision", f"{cancelled} queued AI reply(s) cancelled")


def _message_known(message_id: str) -> bool:
    return db.session.scalar(
        select(Message.id).where(Message.freshchat_message_id == message_id)) is not None


def _settle(event: Event, status: str, error: str | None = None) -> None:
    event.status, event.processed_at, event.error = status, utcnow(), error


def _postpone(event: Event, delay: timedelta, why: str) -> None:
    event.attempts += 1
    event.next_attempt_at = utcnow() + delay
    event.error = why


MAX_CRASHES = 5


def park_after_crash(conversation_id: str | None, exc: Exception) -> None:
    """An unexpected error: retry later, and after a few tries stop and show it."""
    event = head_event(conversation_id)
    if event is None:
        return
    if event.attempts + 1 >= MAX_CRASHES:
        _settle(event, "failed", f"processing crashed {MAX_CRASHES} times: {exc!r}")
        if conversation_id:
            timeline.add(conversation_id, "error", f"{event.action}: processing failed: {exc!r}")
    else:
        _postpone(event, timedelta(seconds=outbox.retry_delay(event.attempts + 1)), repr(exc))
    db.session.commit()
