"""The live queue: conversations waiting for the AI, because their events are not
processed yet or their replies wait for the rate budget. A new conversation is here from
its first stored webhook, before it has a session."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from opencx_bridge.extensions import db
from opencx_bridge.freshchat.events import PayloadError, parse_event
from opencx_bridge.store.models import ChatSession, Event, OutboxItem
from opencx_bridge.store.sessions import COUNT_CAP

RATE_SPAN = timedelta(minutes=5)  # the current pace is measured over this
CALLS_PER_CONVERSATION = 3  # the pace before anything was measured: claim, read, reply
MOST = 5000  # conversations looked at; a longer queue is counted, not ranked


@dataclass(frozen=True)
class Waiting:
    conversation_id: str
    since: datetime  # its oldest waiting event or reply
    events: int  # webhooks not processed yet
    replies: int  # AI messages waiting for the rate budget
    position: int  # 1 = next
    session_id: int | None = None  # None: a new conversation, no session yet
    preview: str | None = None  # the customer's first waiting message


@dataclass(frozen=True)
class Queue:
    rows: list[Waiting]
    total: int
    per_minute: float  # conversations the bridge gets through in a minute, lately

    def eta_seconds(self, row: Waiting) -> float:
        return row.position / self.per_minute * 60 if self.per_minute > 0 else 0.0


def pace(now: datetime, rate_limit_per_minute: int) -> float:
    """Conversations handled per minute lately (events processed); before any, what the
    plan's rate limit allows at three calls a conversation."""
    done = db.session.scalar(
        select(func.count(func.distinct(Event.conversation_id)))
        .where(Event.status != "pending", Event.processed_at >= now - RATE_SPAN)) or 0
    measured = done / (RATE_SPAN.total_seconds() / 60)
    return measured or rate_limit_per_minute / CALLS_PER_CONVERSATION


def waiting(now: datetime, rate_limit_per_minute: int, limit: int = 50) -> Queue:
    events = db.session.execute(
        select(Event.conversation_id, func.min(Event.received_at), func.count(), func.min(Event.id))
        .where(Event.status == "pending", Event.conversation_id.is_not(None))
        .group_by(Event.conversation_id).order_by(func.min(Event.id)).limit(MOST)).all()
    replies = db.session.execute(
        select(OutboxItem.conversation_id, func.min(OutboxItem.created_at), func.count())
        .where(OutboxItem.status.in_(("pending", "sending")), OutboxItem.kind == "reply")
        .group_by(OutboxItem.conversation_id).limit(MOST)).all()
    found: dict[str, dict] = {}
    for cid, since, count, first_id in events:
        found[cid] = {"since": since, "events": int(count), "replies": 0, "first": first_id}
    for cid, since, count in replies:
        entry = found.setdefault(cid, {"since": since, "events": 0, "replies": 0, "first": None})
        entry["since"], entry["replies"] = min(entry["since"], since), int(count)
    ranked = sorted(found.items(), key=lambda item: item[1]["since"])
    shown = ranked[:limit]
    sessions = _session_ids([cid for cid, _ in shown])
    previews = _previews([entry["first"] for _, entry in shown if entry["first"]])
    rows = [Waiting(cid, entry["since"], entry["events"], entry["replies"], position,
                    sessions.get(cid), previews.get(entry["first"]))
            for position, (cid, entry) in enumerate(shown, 1)]
    return Queue(rows, len(ranked), pace(now, rate_limit_per_minute))


def count() -> int:
    """Conversations waiting, up to COUNT_CAP (for the inbox's tab)."""
    with_events = select(Event.conversation_id).where(Event.status == "pending",
                                                      Event.conversation_id.is_not(None))
    with_replies = select(OutboxItem.conversation_id).where(
        OutboxItem.status.in_(("pending", "sending")), OutboxItem.kind == "reply")
    both = with_events.union(with_replies).limit(COUNT_CAP).subquery()
    return int(db.session.scalar(select(func.count()).select_from(both)) or 0)


def _session_ids(cids: list[str]) -> dict[str, int]:
    if not cids:
        return {}
    return dict(db.session.execute(select(ChatSession.conversation_id, ChatSession.id)
                                   .where(ChatSession.conversation_id.in_(cids))).all())


def _previews(event_ids: list[int]) -> dict[int, str]:
    """The customer's text of each event (a message), read from its stored payload."""
    if not event_ids:
        return {}
    found = {}
    for event_id, payload in db.session.execute(
            select(Event.id, Event.payload).where(Event.id.in_(event_ids))):
        try:
            message = parse_event(json.loads(payload)).message
        except (PayloadError, ValueError, TypeError):
            continue
        if message is not None and message.text:
            found[event_id] = message.text[:200]
    return found
