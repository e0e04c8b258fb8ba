"""The inbox's query: one page of sessions, newest first, filtered and searched.

Built to stay fast with 100k sessions and more: keyset pagination on the primary key
(`before` = the last id shown; no OFFSET) and no COUNT over the table. Every search term is
an indexed lookup (session id, conversation id) or a bounded sub-query: contact emails
(at most MATCH_LIMIT contacts) and message text, scanned only over the newest
MESSAGE_WINDOW messages by primary-key range.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, or_, select

from opencx_bridge.extensions import db
from opencx_bridge.store import sessions
from opencx_bridge.store.models import ChatSession, Contact, Message, utcnow

PAGE_SIZE = 50
MATCH_LIMIT = 500
MESSAGE_WINDOW = 50_000


@dataclass(frozen=True)
class Page:
    rows: list[ChatSession]
    older: int | None  # the `before` value of the next (older) page, None on the last page
    contacts: dict[int, Contact] = field(default_factory=dict)  # by contact id
    previews: dict[int, Message] = field(default_factory=dict)  # last message, by session id
    stranded: dict[int, int] = field(default_factory=dict)  # minutes waited, by session id


def fetch(status: str | None = None, query: str = "", before: int | None = None,
          limit: int | None = None, now: datetime | None = None, where=None) -> Page:
    """The page of sessions older than `before` (the newest when None); status may also be
    "stranded" (customers waiting with nobody answering); `where`, a further condition
    (the overview's outcome filters)."""
    limit, now = limit or PAGE_SIZE, now or utcnow()
    statement = select(ChatSession).order_by(ChatSession.id.desc()).limit(limit + 1)
    if where is not None:
        statement = statement.where(where)
    if status == sessions.STRANDED:
        statement = statement.where(sessions.stranded_clause(now))
    elif status:
        statement = statement.where(ChatSession.status == status)
    if before is not None:
        statement = statement.where(ChatSession.id < before)
    query = query.strip()
    if query:
        statement = statement.where(or_(*search_terms(query)))
    rows = list(db.session.scalars(statement))
    older = rows[limit - 1].id if len(rows) > limit else None
    rows = rows[:limit]
    ids = [row.id for row in rows]
    return Page(rows=rows, older=older, contacts=contacts_of(rows),
                previews=last_messages(ids), stranded=sessions.stranded_minutes(ids, now))


def search_terms(query: str) -> list:
    """Where-clauses, any of which makes a session match."""
    terms = [ChatSession.conversation_id == query]
    if query.isascii() and query.isdigit() and len(query) < 19:
        terms.append(ChatSession.id == int(query))
    pattern = "%" + _escape_like(query.lower()) + "%"
    emails = (select(Contact.id).where(Contact.email.like(pattern, escape="\\"))
              .limit(MATCH_LIMIT))
    terms.append(ChatSession.contact_id.in_(emails))
    floor = db.session.scalar(select(func.max(Message.id))) or 0
    texts = (select(Message.session_id)
             .where(Message.id > floor - MESSAGE_WINDOW,
                    Message.text.ilike("%" + _escape_like(query) + "%", escape="\\"))
             .order_by(Message.id.desc()).limit(MATCH_LIMIT))
    terms.append(ChatSession.id.in_(texts))
    return terms


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def contacts_of(rows: list[ChatSession]) -> dict[int, Contact]:
    ids = {row.contact_id for row in rows if row.contact_id}
    if not ids:
        return {}
    return {c.id: c for c in db.session.scalars(select(Contact).where(Contact.id.in_(ids)))}


def last_messages(session_ids: list[int]) -> dict[int, Message]:
    """Each session's newest message that the customer sees (private notes left out),
    through the index on message.session_id."""
    if not session_ids:
        return {}
    newest = (select(func.max(Message.id))
              .where(Message.session_id.in_(session_ids), Message.author != "note")
              .group_by(Message.session_id))
    found = db.session.scalars(select(Message).where(Message.id.in_(newest)))
    return {message.session_id: message for message in found}
