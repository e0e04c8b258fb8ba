"""The stored "Open in Freshchat" links, rewritten when the team changes how they are built."""

from __future__ import annotations

from sqlalchemy import select, update

from opencx_bridge.extensions import db
from opencx_bridge.freshchat import links
from opencx_bridge.store.models import ChatSession, Integration

BATCH = 1000


def relink(app_link: str) -> int:
    """Every session's link in the form `app_link` gives (setting freshchat_link_address),
    in the caller's transaction. Returns how many sessions there are."""
    integration = db.session.get(Integration, 1)
    domain = integration.domain if integration is not None else None
    rows = (select(ChatSession.id, ChatSession.app_id, ChatSession.conversation_id,
                   ChatSession.freshchat_conversation_id).order_by(ChatSession.id))
    done, after = 0, 0
    while True:
        batch = db.session.execute(rows.where(ChatSession.id > after).limit(BATCH)).all()
        if not batch:
            return done
        db.session.execute(update(ChatSession), [
            {"id": row.id, "freshchat_url": links.conversation_url(
                domain, row.app_id, row.conversation_id, row.freshchat_conversation_id,
                app_link)} for row in batch])
        done, after = done + len(batch), batch[-1].id
