"""What a person can do to a session from the dashboard: hand it off now, resolve it, retry
a failed Freshchat call. Each writes the same rows the AI's own decisions write (delivery,
session, timeline), committed, or nothing when the action cannot be done; the worker sends them.
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import select

from opencx_bridge.ai.sentiment import overall
from opencx_bridge.engine import replies, writes
from opencx_bridge.engine.rules.types import HANDED_OFF, OPEN, RESOLVED, RETURN_TO_AI
from opencx_bridge.extensions import db
from opencx_bridge.outbox import delivery
from opencx_bridge.store import integration, timeline
from opencx_bridge.store.models import ChatSession, Event, OutboxItem, utcnow
from opencx_bridge.store.writes import commits

OUTBOX_STATUSES = ("pending", "sending", "sent", "failed", "cancelled")


class ActionError(Exception):
    """The action cannot be done now; the message says why and what to do."""


@commits
def hand_off(session: ChatSession, who: str, now: datetime | None = None) -> None:
    """Do what an AI handoff does: the customer-visible handoff message, the private note
    (summary, sentiment, reason), unassign when assigned; the session is handed off."""
    _lock(session)
    if session.status != OPEN:
        raise ActionError(f"session #{session.id} is already {_label(session.status)}: "
                          "only a session the AI is handling can be handed off")
    agent_id = _agent_id()
    now = now or utcnow()
    cid = session.conversation_id
    reason = f"handed off from the dashboard by {who}"
    turns = replies.history(session)
    cancelled = delivery.cancel_pending_replies(cid)
    writes.hand_off(session, reason, replies.handoff_text(now), turns, agent_id,
                     f"dashboard:{session.id}:handoff:{now.isoformat()}")
    mood = overall([t.text for t in turns if t.author == "customer"])
    detail = {"reason": reason, "by": who, "sentiment": f"{mood.label} ({mood.score:+.2f})"}
    if cancelled:
        detail["cancelled_replies"] = cancelled
    timeline.add(cid, "decision", f"handoff: {reason}", detail)


@commits
def resolve(session: ChatSession, who: str, now: datetime | None = None) -> None:
    """Resolve the conversation in Freshchat (PUT status resolved) and here."""
    _lock(session)
    if session.status == RESOLVED:
        raise ActionError(f"session #{session.id} is already resolved")
    _agent_id()
    now = now or utcnow()
    cid = session.conversation_id
    writes.resolve(session, f"dashboard:{session.id}:resolve:{now.isoformat()}", now)
    timeline.add(cid, "decision", f"resolved from the dashboard by {who}", {"by": who})


@commits
def return_to_ai(session: ChatSession, who: str, now: datetime | None = None) -> None:
    """Give a handed-off conversation back to the AI. Stored as an event of its own, so the
    worker does it in order with the conversation's webhooks: assign it to the AI agent in
    Freshchat, and answer the customer's message if it is still waiting for an answer."""
    _lock(session)
    if session.status != HANDED_OFF:
        raise ActionError(f"session #{session.id} is {_label(session.status)}: only a handed-off "
                          "session can be returned to the AI")
    _agent_id()
    now = now or utcnow()
    cid = session.conversation_id
    db.session.add(Event(received_at=now, action=RETURN_TO_AI, conversation_id=cid,
                         dedup_key=f"return-to-ai:{session.id}:{now.isoformat()}",
                         payload=json.dumps({"action": RETURN_TO_AI, "by": who}),
                         status="pending", attempts=0))
    timeline.add(cid, "decision", f"return to the AI asked by {who}", {"by": who})


def _lock(session: ChatSession) -> None:
    """Read the session again, locked, before deciding: the worker may be changing it (it
    holds the same lock while it processes an event of this conversation)."""
    db.session.refresh(session, with_for_update=True)


@commits
def retry(session: ChatSession, item_id: int, who: str) -> OutboxItem:
    """Send a failed call of this conversation again."""
    item = db.session.get(OutboxItem, item_id)
    if item is None or item.conversation_id != session.conversation_id:
        raise ActionError(f"no Freshchat call #{item_id} in this conversation")
    if item.status != "failed":
        raise ActionError(f"call #{item_id} is {item.status}, not failed: nothing to retry")
    delivery.retry([item.id])
    timeline.add(session.conversation_id, "decision",
                 f"retry of {item.kind} (call #{item.id}) asked from the dashboard by {who}",
                 {"outbox_id": item.id, "by": who})
    return item


def calls(conversation_id: str, limit: int = 100) -> list[OutboxItem]:
    """The conversation's Freshchat writes, newest first (the status IN(...) lets the
    (status, conversation_id, id) index serve the lookup)."""
    return list(db.session.scalars(
        select(OutboxItem)
        .where(OutboxItem.status.in_(OUTBOX_STATUSES),
               OutboxItem.conversation_id == conversation_id)
        .order_by(OutboxItem.id.desc()).limit(limit)))


def _agent_id() -> str:
    row = integration.get()
    if not integration.is_connected(row):
        raise ActionError("not connected to Freshchat: connect the workspace under Freshchat "
                          "settings first")
    return row.default_agent_id


def _label(status: str) -> str:
    return {OPEN: "handled by the AI", HANDED_OFF: "handed off", RESOLVED: "resolved"}.get(
        status, status)
