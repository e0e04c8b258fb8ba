"""Store a verified webhook delivery: dedup key, event row, nothing else.

This is the bridge's hot path, so it speaks SQLAlchemy Core on the session's connection:
adding ORM objects cost several times the SQL they produce. Every statement is built once.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import bindparam, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from . import settings, timeline
from .extensions import db
from .freshchat.events import action_kind, conversation_id_of, dedup_key
from .models import DedupKey, Event, Integration, utcnow

LAST_SEEN_PRECISION = timedelta(seconds=10)

_keys, _events, _integration = DedupKey.__table__, Event.__table__, Integration.__table__
# psycopg reports no rowcount for this INSERT: RETURNING there. SQLite's rowcount is exact,
# and RETURNING would need SQLite 3.35 (older ones still ship with some distributions).
_CLAIM = {"postgresql": postgresql.insert(_keys).on_conflict_do_nothing().returning(_keys.c.key),
          "sqlite": sqlite.insert(_keys).on_conflict_do_nothing()}
_SEEN_AT = select(_keys.c.seen_at).where(_keys.c.key == bindparam("claimed"))
# Conditional: of two processes renewing one expired key at once, only one wins.
_RENEW = (_keys.update().where(_keys.c.key == bindparam("claimed"),
                               _keys.c.seen_at <= bindparam("expired_before"))
          .values(seen_at=bindparam("now")))
_INSERT_EVENT = _events.insert()
# Only when the stored time is older than LAST_SEEN_PRECISION: that row is a hot spot.
_NOTE_WEBHOOK = (_integration.update()
                 .where(_integration.c.id == 1, or_(_integration.c.last_webhook_at.is_(None),
                        _integration.c.last_webhook_at < bindparam("stale_before")))
                 .values(last_webhook_at=bindparam("now")))
_WEBHOOK_KEYS = select(_integration.c.webhook_token_digest, _integration.c.webhook_public_key,
                       _integration.c.last_webhook_at).where(_integration.c.id == 1)


class WebhookKeys(NamedTuple):
    token_digest: str | None
    public_key: str | None
    last_webhook_at: datetime | None


def webhook_keys() -> WebhookKeys | None:
    """What the intake needs of the integration row; None before one was ever saved."""
    row = db.session.connection().execute(_WEBHOOK_KEYS).first()
    return None if row is None else WebhookKeys(*row)


def store(payload: dict, raw: bytes, retry_count: int | None,
          last_webhook_at: datetime | None = None) -> str:
    """Return 'accepted', 'duplicate' or 'ignored'; the caller commits nothing itself.

    `last_webhook_at` as the caller read it (webhook_keys) spares a statement while the
    write lock is held, where every statement counts: other writers queue behind it."""
    key = dedup_key(payload, raw)
    action, conversation_id, now = payload["action"], conversation_id_of(payload), utcnow()
    detail = {"dedup_key": key, "retry_count": retry_count}
    connection = db.session.connection()
    claimed = _claim_key(connection, key, now)
    if last_webhook_at is None or now - last_webhook_at > LAST_SEEN_PRECISION:
        connection.execute(_NOTE_WEBHOOK, {"now": now, "stale_before": now - LAST_SEEN_PRECISION})
    if not claimed:
        if conversation_id:
            timeline.add_now(connection, conversation_id, "duplicate",
                             f"duplicate {action} dropped", detail)
        db.session.commit()
        return "duplicate"
    known = is_known(action)
    connection.execute(_INSERT_EVENT, {
        "action": action[:64], "conversation_id": conversation_id, "dedup_key": key,
        "retry_count": retry_count, "payload": raw.decode("utf-8"),
        "status": "pending" if known else "ignored", "processed_at": None if known else now,
    })
    if conversation_id:
        summary = f"{action} received" + ("" if known else " (ignored: not acted on)")
        timeline.add_now(connection, conversation_id, "event", summary, detail)
    db.session.commit()
    return "accepted" if known else "ignored"


def is_known(action: str) -> bool:
    return action_kind(action) != "unknown"


def _claim_key(connection: Connection, key: str, now) -> bool:
    """Insert the key; a key older than the window counts as new again."""
    if connection.dialect.name == "postgresql":
        if connection.execute(_CLAIM["postgresql"], {"key": key, "seen_at": now}).first():
            return True
    elif connection.execute(_CLAIM["sqlite"], {"key": key, "seen_at": now}).rowcount == 1:
        return True
    seen_at = connection.execute(_SEEN_AT, {"claimed": key}).scalar()
    if seen_at is None:
        return True  # pruned this instant: it had expired
    window = timedelta(hours=settings.get("dedup_window_hours"))
    if now - seen_at < window:
        return False
    renewed = connection.execute(_RENEW, {"claimed": key, "now": now,
                                          "expired_before": now - window})
    return renewed.rowcount == 1


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
