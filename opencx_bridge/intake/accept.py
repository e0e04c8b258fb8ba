"""Store a verified webhook delivery: dedup key, event row, nothing else.

The statements are SQLAlchemy Core, built once at import, run on one connection per
request: the intake needs no ORM identity map for four plain statements.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import bindparam, or_, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.engine import Connection

from opencx_bridge.freshchat.events import (
    action_kind,
    conversation_id_of,
    dedup_key,
    has_lone_surrogate,
    message_id_of,
)
from opencx_bridge.store import settings, sqlite, timeline
from opencx_bridge.store.models import (
    ID_LENGTH,
    DedupKey,
    Event,
    Integration,
    RefusedWebhook,
    Setting,
    utcnow,
)

LAST_SEEN_PRECISION = timedelta(seconds=10)

_keys, _events, _integration = DedupKey.__table__, Event.__table__, Integration.__table__
# psycopg reports no rowcount for this INSERT: RETURNING there. SQLite's rowcount is exact,
# and RETURNING would need SQLite 3.35 (older ones still ship with some distributions).
_KEY_VALUES = {"key": bindparam("key"), "seen_at": bindparam("seen_at")}
_CLAIM_POSTGRESQL = (postgresql.insert(_keys).values(_KEY_VALUES).on_conflict_do_nothing()
                     .returning(_keys.c.key))
_CLAIM_SQLITE = sqlite_dialect.insert(_keys).values(_KEY_VALUES).on_conflict_do_nothing()
_settings = Setting.__table__
_DEDUP_WINDOW = select(_settings.c.value).where(_settings.c.key == "dedup_window_hours")
_KEY_EXISTS = select(_keys.c.key).where(_keys.c.key == bindparam("claimed"))
# Conditional: of two processes renewing one expired key at once, only one wins.
_RENEW = (_keys.update().where(_keys.c.key == bindparam("claimed"),
                               _keys.c.seen_at <= bindparam("expired_before"))
          .values(seen_at=bindparam("now")))
_INSERT_EVENT = _events.insert().values({name: bindparam(name) for name in (
    "received_at", "action", "conversation_id", "dedup_key", "retry_count", "payload",
    "status", "attempts", "processed_at")})
# Writes only when the stored time is older than LAST_SEEN_PRECISION: that row is a hot spot.
_NOTE_WEBHOOK = (_integration.update()
                 .where(_integration.c.id == 1, or_(_integration.c.last_webhook_at.is_(None),
                        _integration.c.last_webhook_at < bindparam("stale_before")))
                 .values(last_webhook_at=bindparam("now")))
_WEBHOOK_KEYS = select(_integration.c.webhook_token_digest,
                       _integration.c.webhook_public_key).where(_integration.c.id == 1)


_INSERT_REFUSAL = RefusedWebhook.__table__.insert().values(
    at=bindparam("at"), status=bindparam("status"), reason=bindparam("reason"))
REASON_LENGTH = 500  # the reasons are ours; a cap keeps a quoted id from growing the row


class WebhookKeys(NamedTuple):
    token_digest: str | None
    public_key: str | None


def webhook_keys(connection: Connection) -> WebhookKeys | None:
    """What the intake needs of the integration row; None before one was ever saved."""
    row = connection.execute(_WEBHOOK_KEYS).first()
    return None if row is None else WebhookKeys(*row)


def store(connection: Connection, payload: dict, raw: bytes, retry_count: int | None) -> str:
    """Return 'accepted', 'duplicate' or 'ignored', committed on `connection`."""
    with sqlite.write_first(connection):
        return _store(connection, payload, raw, retry_count)


def record_refusal(connection: Connection, status: int, reason: str) -> None:
    """A refused webhook, committed on `connection`: diagnostics count them by reason."""
    with sqlite.write_first(connection):
        connection.execute(_INSERT_REFUSAL, {"at": utcnow(), "status": status,
                                             "reason": reason[:REASON_LENGTH]})
        connection.commit()


def _store(connection: Connection, payload: dict, raw: bytes, retry_count: int | None) -> str:
    key = dedup_key(payload, raw)
    action, conversation_id, now = payload["action"], conversation_id_of(payload), utcnow()
    detail = {"dedup_key": key, "retry_count": retry_count}
    claimed = _claim_key(connection, key, now)
    connection.execute(_NOTE_WEBHOOK, {"now": now, "stale_before": now - LAST_SEEN_PRECISION})
    if not claimed:
        if conversation_id:
            timeline.add_now(connection, conversation_id, "duplicate",
                             f"duplicate {action} dropped", detail)
        connection.commit()
        return "duplicate"
    known = is_known(action)
    connection.execute(_INSERT_EVENT, {
        "received_at": now, "action": action[:64], "conversation_id": conversation_id,
        "dedup_key": key, "retry_count": retry_count, "payload": raw.decode("utf-8"),
        "status": "pending" if known else "ignored", "attempts": 0,
        "processed_at": None if known else now,
    })
    if conversation_id:
        summary = f"{action} received" + ("" if known else " (ignored: not acted on)")
        timeline.add_now(connection, conversation_id, "event", summary, detail)
    connection.commit()
    return "accepted" if known else "ignored"


def is_known(action: str) -> bool:
    return action_kind(action) != "unknown"


def _claim_key(connection: Connection, key: str, now: datetime) -> bool:
    """Insert the key; a key older than the window counts as new again."""
    if _insert_key(connection, key, now):
        return True
    window = timedelta(hours=_dedup_window_hours(connection))
    renewed = connection.execute(_RENEW, {"claimed": key, "now": now,
                                          "expired_before": now - window}).rowcount
    if renewed == 1:
        return True
    if connection.execute(_KEY_EXISTS, {"claimed": key}).first() is not None:
        return False  # inside the window
    return _insert_key(connection, key, now)  # pruned meanwhile (it had expired): claim anew


def _insert_key(connection: Connection, key: str, now: datetime) -> bool:
    values = {"key": key, "seen_at": now}
    if connection.dialect.name == "postgresql":
        return connection.execute(_CLAIM_POSTGRESQL, values).first() is not None
    return connection.execute(_CLAIM_SQLITE, values).rowcount == 1


def _dedup_window_hours(connection: Connection) -> float:
    """The setting, read on the intake's own connection: no second one for the session."""
    row = connection.execute(_DEDUP_WINDOW).first()
    return settings.decode("dedup_window_hours", None if row is None else row[0])


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
    except RecursionError as exc:  # "[[[[…" 100,000 deep: no webhook is nested like that
        raise ValueError("body is nested too deeply to be a Freshchat webhook") from exc
    if not isinstance(payload, dict):
        raise ValueError("body is not a JSON object")
    if not isinstance(payload.get("action"), str) or not payload["action"]:
        raise ValueError('body has no string "action": not a Freshchat webhook')
    conversation_id = conversation_id_of(payload)
    for what, value in (("action", payload["action"]), ("an id", conversation_id),
                        ("an id", dedup_key(payload, raw))):
        if has_lone_surrogate(value):
            raise ValueError(f"{what} holds a lone UTF-16 surrogate (like \\ud800): not text")
    ids = (("conversation id", conversation_id), ("message id", message_id_of(payload)))
    for what, value in ids:
        if value and len(value) > ID_LENGTH:
            raise ValueError(f"{what} longer than {ID_LENGTH} characters: not a Freshchat id")
    return payload
