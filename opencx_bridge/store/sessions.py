"""Reading sessions: lookup by id or conversation id, lists, the contact."""

from __future__ import annotations

from sqlalchemy import select

from opencx_bridge.extensions import db
from opencx_bridge.store.models import ChatSession, Contact, Message

STATUSES = ("open", "handed_off", "resolved")


def find(identifier: str) -> ChatSession | None:
    identifier = identifier.strip()
    if identifier.isascii() and identifier.isdigit() and len(identifier) < 19:
        found = db.session.get(ChatSession, int(identifier))
        if found is not None:
            return found
    return db.session.scalar(select(ChatSession).where(ChatSession.conversation_id == identifier))


def recent(status: str | None = None, limit: int = 50) -> list[ChatSession]:
    query = select(ChatSession).order_by(ChatSession.id.desc()).limit(limit)
    if status:
        query = query.where(ChatSession.status == status)
    return list(db.session.scalars(query))


def contact_of(session: ChatSession) -> Contact | None:
    return db.session.get(Contact, session.contact_id) if session.contact_id else None


def transcript(session: ChatSession) -> list[Message]:
    return list(db.session.scalars(
        select(Message).where(Message.session_id == session.id).order_by(Message.id)))
