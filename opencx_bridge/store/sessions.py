"""Reading sessions: lookup by id or conversation id, lists, the contact."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select

from opencx_bridge.extensions import db
from opencx_bridge.store import settings
from opencx_bridge.store.models import ChatSession, Contact, Message

STATUSES = ("open", "handed_off", "resolved")
STRANDED = "stranded"  # not a status: a customer waiting with nobody answering (filter)


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


def stranded_threshold() -> timedelta | None:
    minutes = float(settings.get("stranded_after_minutes"))
    return timedelta(minutes=minutes) if minutes > 0 else None


def stranded_clause(now: datetime):
    """SQL: the session is stranded now (false when the setting is 0)."""
    wait = stranded_threshold()
    if wait is None:
        return ChatSession.id.is_(None)  # never true
    human_answered = select(Message.id).where(
        Message.session_id == ChatSession.id, Message.author == "agent",
        Message.created_at >= ChatSession.last_customer_message_at).exists()
    unanswered = or_(
        and_(ChatSession.status == "open",
             or_(ChatSession.last_ai_reply_at.is_(None),
                 ChatSession.last_ai_reply_at < ChatSession.last_customer_message_at)),
        and_(ChatSession.status == "handed_off", ~human_answered))
    return and_(ChatSession.last_customer_message_at.is_not(None),
                ChatSession.last_customer_message_at <= now - wait, unanswered)


COUNT_CAP = 1000  # the inbox's tab counts stop here ("1000+"): each poll stays cheap at size


def status_counts(now: datetime) -> dict[str, int]:
    """Sessions by status, "all" and "stranded", each counted up to COUNT_CAP (the inbox's
    tabs: a count of a million rows every three seconds would cost more than it tells)."""
    counts = {"all": capped_count(select(ChatSession.id))}
    for status in STATUSES:
        counts[status] = capped_count(select(ChatSession.id).where(ChatSession.status == status))
    counts[STRANDED] = capped_count(select(ChatSession.id).where(stranded_clause(now)))
    return counts


def capped_count(ids) -> int:
    """How many rows the select finds, reading at most COUNT_CAP of them."""
    bounded = ids.limit(COUNT_CAP).subquery()
    return int(db.session.scalar(select(func.count()).select_from(bounded)) or 0)


def stranded_count(now: datetime) -> int:
    return db.session.scalar(select(func.count(ChatSession.id)).where(stranded_clause(now))) or 0


def stranded_minutes(ids: list[int], now: datetime) -> dict[int, int]:
    """Of these sessions, the stranded ones and how long their customer has waited."""
    if not ids:
        return {}
    rows = db.session.execute(select(ChatSession.id, ChatSession.last_customer_message_at)
                              .where(ChatSession.id.in_(ids), stranded_clause(now)))
    return {row.id: minutes_since(row.last_customer_message_at, now) for row in rows}


def minutes_since(moment: datetime, now: datetime) -> int:
    return int((now - moment).total_seconds() // 60)


def contact_of(session: ChatSession) -> Contact | None:
    return db.session.get(Contact, session.contact_id) if session.contact_id else None


def transcript(session: ChatSession) -> list[Message]:
    return list(db.session.scalars(
        select(Message).where(Message.session_id == session.id).order_by(Message.id)))
