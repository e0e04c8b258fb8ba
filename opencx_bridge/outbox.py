"""Freshchat writes: a row first, then a request, in id order per conversation.

Retries with backoff for what may work later (timeouts, 5xx, 429 with Retry-After); a
rejected token pauses all delivery until the next Test & Save; other errors fail the row
and say why.
"""

from __future__ import annotations

import json
import random
from datetime import timedelta

from sqlalchemy import select, update

from . import api_calls, integration, timeline
from .extensions import db
from .freshchat import errors
from .models import ChatSession, Message, OutboxItem, utcnow

WRITE_KINDS = ("assign", "unassign", "resolve")  # PUT /conversations/{id}
MESSAGE_KINDS = ("reply", "note")  # POST /conversations/{id}/messages
RETRY_HORIZON = timedelta(hours=24)
MAX_BACKOFF_SECONDS = 300.0


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


def head(conversation_id: str) -> OutboxItem | None:
    return db.session.scalar(
        select(OutboxItem)
        .where(OutboxItem.conversation_id == conversation_id,
               OutboxItem.status.in_(("pending", "sending")))
        .order_by(OutboxItem.id).limit(1)
    )


def deliver_next(conversation_id: str) -> bool:
    """Send the conversation's next due row. True when one was handled (sent or settled)."""
    item = head(conversation_id)
    if item is None or item.next_attempt_at > utcnow() or api_calls.delivery_paused():
        return False
    creds = integration.credentials()
    if creds is None:
        return False
    item.status, item.attempts = "sending", item.attempts + 1
    db.session.commit()
    with api_calls.ApiJob(creds) as job:
        try:
            response = _send(job.client, item)
        except errors.FreshchatError as exc:
            _failed(item, exc, job)
        else:
            _sent(item, response, job, creds.agent_id)
        job.write_timeline(conversation_id)
    db.session.commit()
    return True


def _send(client, item: OutboxItem) -> dict:
    body = json.loads(item.body)
    if item.kind in WRITE_KINDS:
        return client.update_conversation(item.conversation_id, body)
    text = body["message_parts"][0]["text"]["content"]
    return client.post_message(item.conversation_id, text, body["actor_id"],
                               message_type=body["message_type"])


def _sent(item: OutboxItem, response: dict, job: api_calls.ApiJob, agent_id: str) -> None:
    record = job.records[-1] if job.records else None
    item.status, item.sent_at = "sent", utcnow()
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
    body = json.loads(item.body)
    db.session.add(Message(
        session_id=session.id, freshchat_message_id=item.response_id,
        author="ai" if item.kind == "reply" else "note", actor_id=agent_id,
        text=body["message_parts"][0]["text"]["content"],
    ))
    if item.kind == "reply":
        session.last_ai_reply_at = utcnow()


def _failed(item: OutboxItem, exc: errors.FreshchatError, job: api_calls.ApiJob) -> None:
    api_calls.note_failure(exc)
    item.last_status, item.last_error = exc.status, exc.message
    now = utcnow()
    if isinstance(exc, errors.Unauthorized):
        item.status = "pending"  # delivery pauses; resumes after a new token passes Test & Save
        return
    if exc.retryable and now - item.created_at < RETRY_HORIZON:
        delay = retry_delay(item.attempts, getattr(exc, "retry_after", None))
        item.status, item.next_attempt_at = "pending", now + timedelta(seconds=delay)
        return
    item.status = "failed"
    timeline.add(item.conversation_id, "error",
                 f"{item.kind} failed for good: {exc.message}", {"outbox_id": item.id})


def reset_in_flight() -> int:
    """After a restart, rows left 'sending' go out again (the delivery issue adds a
    did-Freshchat-get-it check before re-sending messages)."""
    result = db.session.execute(
        update(OutboxItem).where(OutboxItem.status == "sending").values(status="pending"))
    db.session.commit()
    return result.rowcount or 0
