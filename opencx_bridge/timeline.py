"""The per-conversation timeline: what happened, in order, for people to read."""

from __future__ import annotations

import json

from sqlalchemy import select

from .extensions import db
from .models import TimelineEntry


def add(conversation_id: str, kind: str, summary: str, detail: dict | None = None) -> None:
    """Add to the current transaction; the caller commits with the change it describes."""
    db.session.add(TimelineEntry(
        conversation_id=conversation_id, kind=kind, summary=summary[:2000],
        detail=json.dumps(detail, default=str, ensure_ascii=False) if detail else None,
    ))


def entries(conversation_id: str, limit: int = 500) -> list[TimelineEntry]:
    query = (select(TimelineEntry).where(TimelineEntry.conversation_id == conversation_id)
             .order_by(TimelineEntry.id).limit(limit))
    return list(db.session.scalars(query))
