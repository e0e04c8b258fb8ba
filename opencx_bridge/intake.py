"""Store a verified webhook delivery: dedup key, event row, nothing else."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from . import settings, timeline
from .extensions import db
from .freshchat.events import action_kind, conversation_id_of, dedup_key
from .models import DedupKey, Event, Integration, utcnow

LAST_SEEN_PRECISION = timedelta(seconds=10)


def store(payload: dict, raw: bytes, retry_count: int | None) -> str:
    """Return 'accepted', 'duplicate' or 'ignored'; the caller commits nothing itself."""
    key = dedup_key(payload, raw)
    action = payload["action"]
    conversation_id = conversation_id_of(payload)
    now = utcnow()
    integration = db.session.get(Integration, 1)
    last = integration.last_webhook_at if integration is not None else None
    if integration is not None and (last is None or now - last > LAST_SEEN_PRECISION):
        integration.last_webhook_at = now  # not on every webhook: that row is a hot spot
    if not _claim_key(key, now):
        if conversation_id:
            timeline.add(conversation_id, "duplicate", f"duplicate {action} dropped",
                         {"dedup_key": key, "retry_count": retry_count})
        db.session.commit()
        return "duplicate"
    known = is_known(action)
    db.session.add(Event(
        action=action[:64], conversation_id=conversation_id, dedup_key=key,
        retry_count=retry_count, payload=raw.decode("utf-8"),
        status="pending" if known else "ignored", processed_at=None if known else now,
    ))
    if conversation_id:
        summary = f"{action} received" + ("" if known else " (ignored: not acted on)")
        timeline.add(conversation_id, "event", summary,
                     {"dedup_key": key, "retry_count": retry_count})
    db.session.commit()
    return "accepted" if known else "ignored"


def is_known(action: str) -> bool:
    return action_kind(action) != "unknown"


def _claim_key(key: str, now) -> bool:
    """Insert the key; a key older than the window counts as new again."""
    insert = _insert_for_dialect()
    inserted = db.session.execute(  # RETURNING: psycopg reports no rowcount for INSERT
        insert(DedupKey).values(key=key, seen_at=now).on_conflict_do_nothing()
        .returning(DedupKey.key)
    ).first()
    if inserted is not None:
        return True
    seen_at = db.session.scalar(select(DedupKey.seen_at).where(DedupKey.key == key))
    window = timedelta(hours=settings.get("dedup_window_hours"))
    if seen_at is not None and now - seen_at < window:
        return False
    db.session.execute(DedupKey.__table__.update().where(DedupKey.key == key).values(seen_at=now))
    return True


def _insert_for_dialect():
    name = db.session.get_bind().dialect.name
    return postgresql.insert if name == "postgresql" else sqlite.insert


def parse_body(raw: bytes) -> dict:
    """UTF-8 JSON object with a string action, or ValueError saying what is wrong."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError("body is not UTF-8") from exc
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"body is not JSON ({exc.msg} at position {exc.pos})") from exc
    if not isinstance(payload, dict):
        raise ValueError("body is not a JSON object")
    if not isinstance(payload.get("action"), str) or not payload["action"]:
        raise ValueError('body has no string "action": not a Freshchat webhook')
    return payload
