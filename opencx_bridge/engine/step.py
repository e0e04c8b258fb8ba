"""Process one stored webhook event: gather facts, decide, apply in one transaction.

The event is marked processed in the same commit as its effects (session, transcript,
timeline, outbox rows), so a crash anywhere before it means the event is simply done again.
"""

from __future__ import annotations

import json
import logging
import threading
from datetime import datetime, timedelta

from sqlalchemy import select

from opencx_bridge.ai import Responder
from opencx_bridge.engine import failures, replies, writes
from opencx_bridge.engine.gather import Facts, gather, profile
from opencx_bridge.engine.rules import ReplyToCustomer, decide, routing
from opencx_bridge.engine.rules import types as engine
from opencx_bridge.extensions import db
from opencx_bridge.freshchat import errors
from opencx_bridge.freshchat.events import (
    CLOSED_STATUSES,
    PayloadError,
    parse_event,
    parse_time,
    repaired,
)
from opencx_bridge.freshchat.events import Event as ParsedEvent
from opencx_bridge.outbox import api_calls, delivery
from opencx_bridge.store import integration, settings, timeline
from opencx_bridge.store.models import ChatSession, Event, utcnow

log = logging.getLogger(__name__)
NOT_CONNECTED_RETRY = timedelta(seconds=30)
TOKEN_REJECTED_RECHECK = timedelta(minutes=5)  # Test & Save makes them due at once anyway
MAX_CRASHES = 5


def head_event(conversation_id: str | None) -> Event | None:
    """The conversation's oldest pending event, locked for this transaction; None when there
    is none or when another process is handling it (its row is locked until that process
    commits: the conversation waits, the later events are not taken out of order)."""
    head_id = db.session.scalar(
        select(Event.id).where(Event.status == "pending", Event.conversation_id == conversation_id)
        .order_by(Event.id).limit(1)
    )
    if head_id is None:
        return None
    return db.session.scalar(
        select(Event).where(Event.id == head_id, Event.status == "pending")
        .with_for_update(skip_locked=True).execution_options(populate_existing=True)
    )


class EventCrashed(Exception):
    """An unexpected error while an event was processed; its cause is the error."""

    def __init__(self, event_id: int):
        super().__init__(f"event {event_id} crashed")
        self.event_id = event_id


def process_next(conversation_id: str | None, responder: Responder,
                 stopping: threading.Event | None = None, now: datetime | None = None) -> bool:
    """Handle the conversation's oldest pending event if due. True when one was settled.
    An unexpected error comes out as EventCrashed, naming the event (see park_after_crash)."""
    now = now or utcnow()
    event = head_event(conversation_id)
    if event is None or (event.next_attempt_at and event.next_attempt_at > now):
        return False
    event_id = event.id
    try:
        return _process_event(event, conversation_id, responder, stopping, now)
    except Exception as exc:
        raise EventCrashed(event_id) from exc


def _process_event(event: Event, conversation_id: str | None, responder: Responder,
                   stopping: threading.Event | None, now: datetime) -> bool:
    try:
        parsed = _bridge_event(event) or parse_event(repaired(json.loads(event.payload)))
    except (PayloadError, ValueError) as exc:
        _settle(event, "failed", f"could not parse the payload: {exc}")
        if conversation_id:
            timeline.add(conversation_id, "error", f"{event.action}: could not parse: {exc}")
        failures.hand_over(event, f"the {event.action} could not be read ({exc})")
        db.session.commit()
        return True
    if _stale(parsed, event.received_at):
        why = (f"{event.action} of {parsed.action_time} is older than the dedup window "
               f"({settings.get('dedup_window_hours'):g} h): a replay, recorded, not acted on")
        _settle(event, "ignored", why)
        if conversation_id:
            timeline.add(conversation_id, "skip", why, {"event_id": event.id})
        db.session.commit()
        return True
    quiet_until = _debounced_until(event, parsed)
    if quiet_until is not None and quiet_until > now:
        event.next_attempt_at = quiet_until  # not a failure: no attempt counted
        db.session.commit()
        return False
    creds = integration.credentials()
    if creds is None:
        _postpone(event, NOT_CONNECTED_RETRY, "not connected to Freshchat")
        db.session.commit()
        return False
    if api_calls.delivery_paused():  # no read with a token Freshchat refused
        _wait_for_new_token(event)
        db.session.commit()
        return False
    with api_calls.ApiJob(creds, stopping) as job:
        return _process(event, parsed, creds, job, responder, now)


def _process(event: Event, parsed: ParsedEvent, creds, job, responder: Responder,
             now: datetime) -> bool:
    cid = parsed.conversation_id
    session = _session(cid)
    arrived = api_calls.arrival(event.received_at)
    job.priority = (api_calls.CUSTOMER, arrived)  # the reads before this customer's reply
    try:
        facts = gather(job.client, parsed, session, creds.agent_id, creds.agent_name)
    except errors.FreshchatError as exc:
        api_calls.note_failure(exc)
        delay = delivery.retry_delay(event.attempts + 1, getattr(exc, "retry_after", None))
        _postpone(event, timedelta(seconds=delay), f"Freshchat read failed: {exc.message}")
        job.write_timeline(cid)
        db.session.commit()
        return False
    rules = engine.Settings(ai_agent_id=creds.agent_id,
                            auto_handle_all=integration.get().auto_handle_all,
                            reopen_returns_to_ai=settings.get("reopen_returns_to_ai"),
                            takeover_assigns_rep=settings.get("takeover_assigns_rep"))
    decision = decide(parsed, _state(session, parsed, facts, rules), rules, facts.names)
    if settings.get("reply_debounce_seconds") and _customer_wrote_again(event):
        decision = routing.answer_later(decision)
    plans = {index: replies.plan(action.question, session, responder, now)
             for index, action in enumerate(decision.actions)
             if isinstance(action, ReplyToCustomer)}  # outside any write: may be slow
    if any(plan.is_handoff for plan in plans.values()):
        job.priority = (api_calls.TEAM, arrived)
        try:  # the handoff note names the customer
            profile(job.client, facts)
        except errors.FreshchatError as exc:
            api_calls.note_failure(exc)
            facts.user = None  # the note says "unknown"; scheduler/profiles.py reads it later
    # The rows are built first and written together by the commit: on SQLite the write lock
    # is then held for the flush, not for the Python that decides what to write.
    with db.session.no_autoflush:
        session = writes.save_session(session, parsed, facts, decision, creds.domain)
        writes.apply(event, session, decision, plans, creds.agent_id, now, facts.names)
        job.write_timeline(cid)
        _settle(event, "processed")
    db.session.commit()
    return True


def _bridge_event(event: Event) -> ParsedEvent | None:
    """An event the bridge stored itself (not a webhook): read from its row."""
    if event.action != engine.RETURN_TO_AI or not event.conversation_id:
        return None
    return ParsedEvent(action=event.action, kind="return_to_ai", actor_type="agent",
                       actor_id=None, action_time=None, conversation_id=event.conversation_id)


def _debounced_until(event: Event, parsed: ParsedEvent) -> datetime | None:
    """A customer's message is read reply_debounce_seconds after it came (None: at once)."""
    seconds = settings.get("reply_debounce_seconds")
    message = parsed.message
    if not seconds or parsed.kind != "message" or message is None or \
            (message.actor_type or parsed.actor_type or "").lower() != "user":
        return None
    return event.received_at + timedelta(seconds=seconds)


def _customer_wrote_again(event: Event) -> bool:
    """A newer message of the conversation is waiting (the customer's next words, or a
    rep's, whose event then decides)."""
    return db.session.scalar(
        select(Event.id).where(Event.conversation_id == event.conversation_id,
                               Event.status == "pending", Event.id > event.id,
                               Event.action == "message_create").limit(1)) is not None


def _stale(parsed: ParsedEvent, received_at: datetime) -> bool:
    """Older than the dedup window when it arrived: its key may have been forgotten, so a
    redelivery passed the intake; acting on it would answer an old message a second time.
    (Measured at arrival: a backlog that waited here, for a new token say, is not stale.)"""
    happened = parse_time(parsed.action_time) if parsed.action_time else None
    window = timedelta(hours=settings.get("dedup_window_hours"))
    return happened is not None and received_at - happened > window


def _session(conversation_id: str | None) -> ChatSession | None:
    """Locked until the event is settled: auto-resolve and the dashboard's actions change
    the same row (on PostgreSQL they would otherwise overwrite each other's status)."""
    if not conversation_id:
        return None
    return db.session.scalar(
        select(ChatSession).where(ChatSession.conversation_id == conversation_id)
        .with_for_update())


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
        status=engine.RESOLVED if status in CLOSED_STATUSES else engine.OPEN,
        routing_mode=rules.routing_mode, assigned_agent_id=assigned)


def _settle(event: Event, status: str, error: str | None = None) -> None:
    event.status, event.processed_at, event.error = status, utcnow(), error


def _wait_for_new_token(event: Event) -> None:
    """Until a new token passes Test & Save, which makes every waiting event due at once;
    no attempt counted (it is not this event's failure)."""
    event.next_attempt_at = utcnow() + TOKEN_REJECTED_RECHECK
    event.error = "waiting for a new Freshchat token (the last one was rejected)"


def _postpone(event: Event, delay: timedelta, why: str) -> None:
    event.attempts += 1
    event.next_attempt_at = utcnow() + delay
    event.error = why


def park_after_crash(crashed: EventCrashed) -> None:
    """An unexpected error: retry later, and after a few tries stop and show it. The event
    is the one that crashed (another process may have settled it meanwhile: then nothing)."""
    exc = crashed.__cause__
    event = db.session.scalar(
        select(Event).where(Event.id == crashed.event_id, Event.status == "pending")
        .with_for_update(skip_locked=True))
    if event is None:
        return
    conversation_id = event.conversation_id
    if event.attempts + 1 >= MAX_CRASHES:
        _settle(event, "failed", f"processing crashed {MAX_CRASHES} times: {exc!r}")
        if conversation_id:
            timeline.add(conversation_id, "error", f"{event.action}: processing failed: {exc!r}")
        failures.hand_over(event, f"the {event.action} crashed the worker {MAX_CRASHES} times "
                                  f"({type(exc).__name__}; the bridge log has the details)")
    else:
        _postpone(event, timedelta(seconds=delivery.retry_delay(event.attempts + 1)), repr(exc))
    db.session.commit()
