"""The transcript of a session: one place adds its lines, and counts them for the
overview (message count, first customer, rep and AI message times)."""

from __future__ import annotations

from opencx_bridge.extensions import db
from opencx_bridge.store.models import ChatSession, Message, utcnow

FIRST_OF = {"customer": "first_customer_message_at", "agent": "first_human_message_at",
            "ai": "first_ai_reply_at"}


def add(session: ChatSession, author: str, text: str, actor_id: str | None,
        message_id: str | None) -> None:
    """A line by the customer, a rep (agent), the AI (ai) or a private note (note); the
    caller commits."""
    now = utcnow()
    db.session.add(Message(session_id=session.id, freshchat_message_id=message_id,
                           author=author, actor_id=actor_id, text=text, created_at=now))
    if author == "note":
        return
    session.message_count = (session.message_count or 0) + 1
    first = FIRST_OF.get(author)
    if first and getattr(session, first) is None:
        setattr(session, first, now)
        start = session.first_customer_message_at
        if author == "ai" and start is not None:
            session.first_reply_seconds = max(0.0, (now - start).total_seconds())
    if author == "customer":
        session.last_customer_message_at = now
    elif author == "ai":
        session.last_ai_reply_at = now
