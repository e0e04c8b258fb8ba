"""Stranded: a customer whose last message has waited `stranded_after_minutes` with nobody
answering it (neither the AI, nor a human once it was handed off).

The inbox shows them (badge, filter), diagnostics counts them, and the team gets one private
note in Freshchat per waiting message.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select

from opencx_bridge.extensions import db
from opencx_bridge.outbox import delivery
from opencx_bridge.store import integration, timeline
from opencx_bridge.store.models import ChatSession
from opencx_bridge.store.sessions import minutes_since, stranded_clause, stranded_threshold

BATCH = 50


def note_due(now: datetime) -> int:
    """One private note per waiting message (the scheduler's job); returns how many."""
    creds = integration.credentials()
    if creds is None or stranded_threshold() is None:
        return 0
    not_told = or_(ChatSession.stranded_noted_at.is_(None),
                   ChatSession.stranded_noted_at < ChatSession.last_customer_message_at)
    due = list(db.session.scalars(select(ChatSession).where(stranded_clause(now), not_told)
                                  .order_by(ChatSession.id).limit(BATCH)
                                  .with_for_update(skip_locked=True)))
    for session in due:
        minutes = minutes_since(session.last_customer_message_at, now)
        note = (f"Customer waiting {minutes} min, nobody assigned is answering. Answer them "
                "here, or give the conversation back to the AI from the bridge's session page.")
        cid = session.conversation_id
        delivery.enqueue(cid, "note", delivery.message_body(note, creds.agent_id, private=True),
                         f"stranded:{session.id}:{session.last_customer_message_at.isoformat()}")
        timeline.add(cid, "decision", f"stranded: customer waiting {minutes} min; the team was "
                                      "told in a private note")
        session.stranded_noted_at = session.last_customer_message_at  # told about this one
    if due:
        db.session.commit()
    return len(due)
