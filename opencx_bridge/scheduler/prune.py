"""Forget dedup keys older than the dedup window, in short transactions, and refused
webhooks older than a week."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from opencx_bridge.extensions import db
from opencx_bridge.store import settings, sqlite
from opencx_bridge.store.models import DedupKey, RefusedWebhook, Setting, utcnow

LAST_PRUNE_KEY = "_last_dedup_prune"  # private: not a runtime setting, read by the dedup page
PRUNE_BATCH = 2000  # keys per transaction: a few ms of SQLite's write lock at a time
REFUSALS_KEPT = timedelta(days=7)
PRUNE_PAUSE = 0.005  # seconds between batches: a writer in another process gets its turn


def prune_dedup_keys(batch: int = PRUNE_BATCH, pause: float = PRUNE_PAUSE) -> int:
    """Delete the keys older than the dedup window, one short transaction per batch.

    One DELETE of a million keys held the write lock for most of a second and every
    webhook waited for it; between batches the lock is free and webhooks are stored."""
    cutoff = utcnow() - timedelta(hours=settings.get("dedup_window_hours"))
    keys = DedupKey.__table__  # Core: the ORM would fetch every deleted key to sync
    expired = select(keys.c.key).where(keys.c.seen_at < cutoff).limit(batch)
    statement = delete(keys).where(keys.c.key.in_(expired.scalar_subquery()))
    removed = 0
    while True:
        deleted = db.session.execute(statement).rowcount or 0
        db.session.commit()
        sqlite.checkpoint(db.engine)  # outside the write lock, not in a webhook's commit
        removed += deleted
        if deleted < batch:
            break
        time.sleep(pause)
    _record_prune(removed)
    return removed


def prune_refused_webhooks(now: datetime | None = None) -> int:
    """Refusals are for diagnostics (the last 24 h): a week is kept, then forgotten."""
    table = RefusedWebhook.__table__
    cutoff = (now or utcnow()) - REFUSALS_KEPT
    removed = db.session.execute(delete(table).where(table.c.at < cutoff)).rowcount or 0
    db.session.commit()
    return removed


def _record_prune(removed: int) -> None:
    now = utcnow()
    value = json.dumps({"at": now.isoformat(), "removed": removed})
    row = db.session.get(Setting, LAST_PRUNE_KEY)
    if row is None:
        db.session.add(Setting(key=LAST_PRUNE_KEY, value=value, updated_at=now))
    else:
        row.value, row.updated_at = value, now
    try:
        db.session.commit()
    except IntegrityError:  # another thread recorded its prune at the same moment
        db.session.rollback()
