"""The per-conversation timeline: what happened, in order, for people to read."""

from __future__ import annotations

import json

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Connection

from opencx_bridge.extensions import db
from opencx_bridge.store.models import TimelineEntry, utcnow

_INSERT = TimelineEntry.__table__.insert().values(
    {name: bindparam(name) for name in ("conversation_id", "at", "kind", "summary", "detail")})


def add(conversation_id: str, kind: str, summary: str, detail: dict | None = None) -> None:
    """Add to the current transaction; the caller commits with the change it describes."""
    db.session.add(TimelineEntry(**_row(conversation_id, kind, summary, detail)))


def add_now(connection: Connection, conversation_id: str, kind: str, summary: str,
            detail: dict | None = None) -> None:
    """The same entry, on the intake's own Core connection; the caller commits."""
    connection.execute(_INSERT, {**_row(conversation_id, kind, summary, detail), "at": utcnow()})


def _row(conversation_id: str, kind: str, summary: str, detail: dict | None) -> dict:
    return {"conversation_id": conversation_id, "kind": kind, "summary": summary[:2000],
            "detail": json.dumps(detail, default=str, ensure_ascii=False) if detail else None}


def entries(conversation_id: str, limit: int = 500) -> list[TimelineEntry]:
    """The newest `limit` entries of a conversation, oldest first."""
    newest = db.session.scalars(
        select(TimelineEntry).where(TimelineEntry.conversation_id == conversation_id)
        .order_by(TimelineEntry.id.desc()).limit(limit))
    return list(reversed(list(newest)))
