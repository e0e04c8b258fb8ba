"""Freshchat writes: a row first, then a request, in id order per conversation.

Retries with backoff for what may work later (timeouts, 5xx, 429 with Retry-After) up to
the retry horizon; a rejected token pauses all delivery until the next Test & Save; other
errors fail the row and say why. A message whose fate is unknown (timed out, or in flight
when the process died) is looked for in the conversation before it is sent again.
"""

from __future__ import annotations

import json
import random
import threading
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update

from opencx_bridge.extensions import db
from opencx_bridge.freshchat import errors, events
from opencx_bridge.outbox import api_calls
from opencx_bridge.store import integration, settings, timeline, transcript
from opencx_bridge.store.models import ChatSession, Event, OutboxItem, utcnow
from opencx_bridge.store.writes import commits

WRITE_KINDS = ("assign", "unassign", "resolve")  # PUT /conversations/{id}
MESSAGE_KINDS = ("reply", "note")  # POST /conversations/{id}/messages
# When backlogged, what the customer sees goes first (order inside a conversation is kept).
PRIORITY = {"assign": 0, "reply": 0, "unassign": 1, "note": 1, "resolve": 2}
MAX_BACKOFF_SECONDS = 300.0
RECONCILE_SKEW = timedelta(minutes=2)
NEWER_EVENT_WAIT = timedelta(minutes=1)  # a reply waits at most this long for a newer event


def enqueue(conversation_id: str, kind: str, body: dict, idempotency_key: str) -> None:
    """Add to the current transaction, with the decision that wanted it."""
    db.session.add(OutboxItem(conversation_id=conversation_id, kind=kind,
                              body=json.dumps(body, ensure_ascii=False),
                              idempotency_key=idempotency_key))


def message_body(text: str, agent_id: str, private: bool = False) -> dict:
    return {
        "message_type": "private" if private else "normal",
        "actor_type": "agent",
        "actor_id": agent_id,
        "message_parts": [{"text": {"content": text}}],
    }


def message_text(item: OutboxItem) -> str:
    return json.loads(item.body)["message_parts"][0]["text"]["content"]


def cancel_pending_replies(conversation_id: str) -> int:
    result = db.session.execute(
        update(OutboxItem)
        .where(OutboxItem.conversation_id == conversation_id, OutboxItem.kind == "reply",
               OutboxItem.status == "pending")
        .values(status="cancelled", last_error="a human took over before it was sent")
    )
    return result.rowcount or 0


def retry_delay(attempts: int, retry_after: float | None = None, rand=random.random) -> float:
    """Exponential backoff with jitter; Retry-After is a floor, never shortened."""
    backoff = min(MAX_BACKOFF_SECONDS, 2.0 ** max(attempts - 1, 0)) * (0.5 + rand() / 2)
    return max(backoff, retry_after or 0.0)


def lanes(limit: int = 500) -> list[str]:
    """Conversations with a row due now, the most customer-visible head rows first."""
    rows = db.session.execute(
        select(OutboxItem.id, OutboxItem.conversation_id, OutboxItem.kind,
               OutboxItem.next_attempt_at)
        .where(OutboxItem.status.in_(("pending", "sending"))).order_by(OutboxItem.id).limit(limit)
    ).all()
    heads: dict[str, tuple] = {}
    for row in rows:
        heads.setdefault(row.conversation_id, row)
    now = utcnow()
    due = [row for row in heads.values() if row.next_attempt_at <= now]
    return [row.conversation_id for row in sorted(due, key=lambda r: (PRIORITY[r.kind], r.id))]


def head(conversation_id: str) -> OutboxItem | None:
    return db.session.scalar(
        select(OutboxItem)
        .where(OutboxItem.conversation_id == conversation_id,
               OutboxItem.status.in_(("pending", "sending")))
        .order_by(OutboxItem.id).limit(1)
    )


def deliver_next(conversation_id: str, stopping: threading.Event | None = None,
                 owner: str | None = None) -> bool:
    """Send the conversation's next due row. True when one was handled (sent or settled)."""
    item = head(conversation_id)
    if item is None or item.next_attempt_at > utcnow() or api_calls.delivery_paused():
        return False
    if item.kind == "reply" and _newer_event_waiting(item):
        return False  # it may be a rep taking over: the event goes first, and may cancel this
    creds = integration.credentials()
    if creds is None or not _claim(item, owner):
        return False
    claimed = (item.id, item.attempts, owner)  # read now: after a failure the row is stale
    priority = _priority(item)
    try:
        with api_calls.ApiJob(creds, stopping, priority=priority) as job:
            try:
                response = _send_once(job.client, item, creds.agent_id)
            except errors.FreshchatError as exc:
                failure = exc
            else:
                failure = None
            # Its reads first, the writes together at the commit: on SQLite the write lock
            # is held for the flush only, not for the Python that builds the rows.
            with db.session.no_autoflush:
                if failure is None:
                    _sent(item, response, job, creds.agent_id)
                else:
                    _failed(item, failure)
                job.write_timeline(conversation_id)
        db.session.commit()
    except BaseException:
        _unclaim(*claimed)
        raise
    return True


def _priority(item: OutboxItem) -> tuple:
    """Its place in the budget's queue: what the customer sees (and the claim before it)
    first, in the order the customers wrote (the event the row answers), then the rest."""
    tier = api_calls.CUSTOMER if item.kind in ("assign", "reply") else api_calls.TEAM
    source = _source_event_id(item.idempotency_key)
    arrived = db.session.scalar(select(Event.received_at).where(Event.id == source)) \
        if source is not None else None
    return (tier, api_calls.arrival(arrived or item.created_at))


def _newer_event_waiting(item: OutboxItem) -> bool:
    """An event of the conversation that came after the one this reply answers, not read yet
    (a human may have written or taken the assignment while the answer was being computed).
    Only a recent one: an event that keeps failing must not hold the reply back for ever."""
    source = _source_event_id(item.idempotency_key)
    if source is None:
        return False
    return db.session.scalar(
        select(Event.id).where(Event.conversation_id == item.conversation_id,
                               Event.status == "pending", Event.id > source,
                               Event.received_at >= utcnow() - NEWER_EVENT_WAIT)
        .limit(1)) is not None


def _source_event_id(idempotency_key: str) -> int | None:
    """The event a row was written for: keys are "event:<id>:<index>..." (engine/writes)."""
    kind, _, rest = idempotency_key.partition(":")
    number = rest.partition(":")[0]
    return int(number) if kind == "event" and number.isdigit() else None


def _claim(item: OutboxItem, owner: str | None) -> bool:
    """Mark the head row as being sent by this worker, unless another worker (another
    process on the same database) has it or it is not due after all: a conditional UPDATE,
    a row lock on PostgreSQL."""
    claimed = db.session.execute(
        update(OutboxItem).where(OutboxItem.id == item.id, OutboxItem.status == "pending",
                                 OutboxItem.next_attempt_at <= utcnow())
        .values(status="sending", attempts=OutboxItem.attempts + 1, claimed_by=owner)
    ).rowcount
    db.session.commit()
    if claimed:
        db.session.refresh(item)
    return bool(claimed)


def _unclaim(item_id: int, attempts: int, owner: str | None) -> None:
    """Something other than Freshchat failed after the claim (a bug, the database): the row
    must not stay 'sending' for good. It is checked before it goes again, after a backoff."""
    db.session.rollback()
    db.session.execute(
        update(OutboxItem).where(OutboxItem.id == item_id, OutboxItem.status == "sending",
                                 OutboxItem.claimed_by == owner)
        .values(status="pending", uncertain=True,
                next_attempt_at=utcnow() + timedelta(seconds=retry_delay(attempts))))
    db.session.commit()


def _send_once(client, item: OutboxItem, agent_id: str) -> dict:
    body = json.loads(item.body)
    if item.kind in WRITE_KINDS:
        return client.update_conversation(item.conversation_id, body)  # idempotent: repeat
    if item.uncertain:
        found = _find_delivered(client, item)
        if found is not None:
            timeline.add(item.conversation_id, "decision",
                         f"{item.kind} was already in Freshchat (message {found.get('id')}): "
                         "not sent again", {"outbox_id": item.id})
            return found
    return client.post_message(item.conversation_id, message_text(item), body["actor_id"],
                               message_type=body["message_type"])


def _find_delivered(client, item: OutboxItem) -> dict | None:
    """Our message in the conversation's newest page: same author, type and text, written
    after the row was queued, and not already the proof of another row."""
    body = json.loads(item.body)
    page = client.list_messages(item.conversation_id, page=1, items_per_page=50)
    claimed = set(db.session.scalars(
        select(OutboxItem.response_id).where(OutboxItem.conversation_id == item.conversation_id,
                                             OutboxItem.response_id.is_not(None))))
    for message in page.get("messages") or []:
        if (isinstance(message, dict)
                and str(message.get("actor_id")) == body["actor_id"]
                and (message.get("message_type") or "normal") == body["message_type"]
                and events.message_text(message) == message_text(item)
                and str(message.get("id")) not in claimed
                and _created(message) >= item.created_at - RECONCILE_SKEW):
            return message
    return None


def _created(message: dict) -> datetime:
    # No usable time: do not rule it out on time.
    return events.parse_time(message.get("created_time")) or datetime.max


def _sent(item: OutboxItem, response: dict, job: api_calls.ApiJob, agent_id: str) -> None:
    record = job.records[-1] if job.records else None
    item.status, item.sent_at, item.uncertain = "sent", utcnow(), False
    item.last_status = record.status if record else None
    item.latency_ms = record.latency_ms if record else None
    item.last_error = None
    response_id = response.get("id") if isinstance(response, dict) else None
    item.response_id = str(response_id) if response_id else None
    if item.kind in MESSAGE_KINDS:
        _add_to_transcript(item, agent_id)


def _add_to_transcript(item: OutboxItem, agent_id: str) -> None:
    session = db.session.scalar(
        select(ChatSession).where(ChatSession.conversation_id == item.conversation_id))
    if session is None:
        return
    transcript.add(session, "ai" if item.kind == "reply" else "note", message_text(item),
                   agent_id, item.response_id)


def _failed(item: OutboxItem, exc: errors.FreshchatError) -> None:
    api_calls.note_failure(exc)
    item.last_status, item.last_error = exc.status, exc.message
    if item.kind in MESSAGE_KINDS and isinstance(exc, errors.Timeout | errors.ServerError):
        item.uncertain = True  # Freshchat may have stored it: look before sending again
    now = utcnow()
    if isinstance(exc, errors.Unauthorized):
        item.status = "pending"  # delivery pauses; resumes after a new token passes Test & Save
        return
    horizon = timedelta(hours=settings.get("delivery_retry_horizon_hours"))
    if exc.retryable and now - (item.retried_at or item.created_at) < horizon:
        delay = retry_delay(item.attempts, getattr(exc, "retry_after", None))
        item.status, item.next_attempt_at = "pending", now + timedelta(seconds=delay)
        return
    item.status = "failed"
    why = "gave up after the retry horizon" if exc.retryable else "Freshchat refused it"
    timeline.add(item.conversation_id, "error", f"{item.kind} failed ({why}): {exc.message}",
                 {"outbox_id": item.id, "status": exc.status})


def reset_in_flight() -> int:
    """After a restart, rows left 'sending' go out again, checked first for messages."""
    result = db.session.execute(
        update(OutboxItem).where(OutboxItem.status == "sending")
        .values(status="pending", uncertain=True))
    db.session.commit()
    return result.rowcount or 0


def in_flight_owners() -> set[str]:
    """The workers sending rows right now (by their rows' claims)."""
    return set(db.session.scalars(select(OutboxItem.claimed_by).distinct().where(
        OutboxItem.status == "sending", OutboxItem.claimed_by.is_not(None))))


def release_orphans(gone_owners: set[str]) -> int:
    """Rows left 'sending' by workers that are gone (or by nobody known) go out again,
    checked first."""
    result = db.session.execute(
        update(OutboxItem).where(OutboxItem.status == "sending", or_(
            OutboxItem.claimed_by.is_(None), OutboxItem.claimed_by.in_(gone_owners)))
        .values(status="pending", uncertain=True))
    db.session.commit()
    return result.rowcount or 0


@commits
def retry_failed(item_ids: list[int] | None = None) -> int:
    """retry(), committed (the CLI's)."""
    return retry(item_ids)


def retry(item_ids: list[int] | None = None) -> int:
    """Send failed rows again (all failed rows when no ids are given); the caller commits."""
    query = update(OutboxItem).where(OutboxItem.status == "failed")
    if item_ids is not None:
        query = query.where(OutboxItem.id.in_(item_ids))
    now = utcnow()
    result = db.session.execute(query.values(status="pending", next_attempt_at=now,
                                             retried_at=now, attempts=0))
    return result.rowcount or 0
