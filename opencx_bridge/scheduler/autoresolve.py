"""Auto-resolve: after the AI's answer, a customer who stays quiet for
`auto_resolve_after_minutes` gets the conversation resolved, with a private note."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from opencx_bridge.engine import replies, writes
from opencx_bridge.extensions import db
from opencx_bridge.outbox import delivery
from opencx_bridge.store import integration, settings, timeline
from opencx_bridge.store.models import ChatSession, Event, utcnow

BATCH = 50


def run_due(now: datetime) -> int:
    """Resolve every open session whose quiet period ended; returns how many."""
    creds = integration.credentials()
    if creds is None:
        return 0
    customer_waiting = select(Event.id).where(Event.conversation_id == ChatSession.conversation_id,
                                              Event.status == "pending").exists()
    due = list(db.session.scalars(  # sessions an event is being processed for are skipped
        select(ChatSession).where(ChatSession.status == "open",
                                  ChatSession.auto_resolve_at.is_not(None),
                                  ChatSession.auto_resolve_at <= now, ~customer_waiting)
        .order_by(ChatSession.auto_resolve_at).limit(BATCH)
        .with_for_update(skip_locked=True)))
    for session in due:
        _resolve(session, creds.agent_id, now)
    if due:
        db.session.commit()
    return len(due)


def _resolve(session: ChatSession, agent_id: str, now: datetime) -> None:
    minutes = settings.get("auto_resolve_after_minutes")
    note = replies.note_text(
        f"Resolved automatically: the customer did not reply for {minutes:g} minute(s) after "
        "the AI's answer.", None, replies.history(session), session)
    key = f"autoresolve:{session.id}:{session.auto_resolve_at.isoformat()}"
    cid = session.conversation_id
    delivery.enqueue(cid, "note", delivery.message_body(note, agent_id, private=True),
                     key + ":note")
    writes.resolve(session, key + ":resolve", utcnow())
    timeline.add(cid, "decision", f"auto-resolved after {minutes:g} quiet minute(s)",
                 {"due": now.isoformat()})
