"""The support bundle: what a support request about one conversation needs, as JSON.

Ids, the Freshchat link, the status, the contact, the timeline and the Freshchat calls. No
message texts and no secrets: the timeline and the outbox columns never hold the token.
"""

from __future__ import annotations

import json
from datetime import datetime
from importlib import metadata

from opencx_bridge.engine.session_actions import calls
from opencx_bridge.store import sessions, timeline
from opencx_bridge.store.models import ChatSession, OutboxItem, TimelineEntry, utcnow

TIMELINE_LIMIT = 1000


def build(session: ChatSession) -> dict:
    contact = sessions.contact_of(session)
    return {
        "bundle": "opencx-bridge support bundle",
        "bridge_version": _version(),
        "generated_at": _iso(utcnow()),
        "session_id": session.id,
        "conversation_id": session.conversation_id,
        "freshchat_url": session.freshchat_url,
        "status": session.status,
        "routing_mode": session.routing_mode,
        "assigned_agent": session.assigned_agent_name or session.assigned_agent_id,
        "handoff_reason": session.handoff_reason,
        "created_at": _iso(session.created_at),
        "resolved_at": _iso(session.resolved_at),
        "contact": None if contact is None else {
            "id": contact.id, "name": contact.name, "email": contact.email,
        },
        "timeline": [entry_json(entry)
                     for entry in timeline.entries(session.conversation_id, TIMELINE_LIMIT)],
        "freshchat_calls": [call_json(item) for item in reversed(calls(session.conversation_id))],
    }


def entry_json(entry: TimelineEntry) -> dict:
    return {"at": _iso(entry.at), "kind": entry.kind, "summary": entry.summary,
            "detail": detail_of(entry)}


def call_json(item: OutboxItem) -> dict:
    return {"id": item.id, "kind": item.kind, "status": item.status, "attempts": item.attempts,
            "last_status": item.last_status, "last_error": item.last_error,
            "latency_ms": item.latency_ms, "created_at": _iso(item.created_at),
            "sent_at": _iso(item.sent_at)}


def detail_of(entry: TimelineEntry) -> dict | None:
    if not entry.detail:
        return None
    try:
        found = json.loads(entry.detail)
    except ValueError:
        return {"text": entry.detail}
    return found if isinstance(found, dict) else {"value": found}


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") + "Z" if moment else None


def _version() -> str:
    try:
        return metadata.version("opencx-bridge")
    except metadata.PackageNotFoundError:
        return "unknown"
