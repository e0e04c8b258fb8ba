"""Read the facts the diagnostics decide on: the database, and Freshchat's answers.

Freshchat calls spend the shared rate budget, so one asking makes as few as give every check
its answer: GET /v2/agents/{id} for the default agent and GET /v2/accounts/configuration,
on one client; Test & Save's walk over every /agents page only when that agent is not
active under the saved email (then the walk says why). The worker asks every few minutes
(freshchat_check.py); the page uses its last answer. Nothing is written here: a failing
check changes no state, it only says what to fix.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import distinct, func, or_, select

from opencx_bridge.engine import failures
from opencx_bridge.extensions import db
from opencx_bridge.scheduler import freshchat_check
from opencx_bridge.scheduler.checks import RATE_SPAN, RECENT, Check, Facts, run_checks
from opencx_bridge.scheduler.prune import LAST_PRUNE_KEY
from opencx_bridge.store import integration, sessions, settings
from opencx_bridge.store.models import (
    ChatSession,
    DedupKey,
    EmbeddingsState,
    Event,
    Integration,
    OutboxItem,
    RefusedWebhook,
    RevokedWebhook,
    Setting,
    TimelineEntry,
    utcnow,
)

ROUTING_SKIP_PREFIX = "assigned-only"


def run(now: datetime | None = None, live: bool = False) -> list[Check]:
    return run_checks(gather(now, live))


def gather(now: datetime | None = None, live: bool = False) -> Facts:
    """The facts now. Freshchat is asked only when `live` (the doctor command); else its
    last answer kept by the worker is used, with its age (freshchat_check.py)."""
    now = now or utcnow()
    row = integration.get()
    connected = integration.is_connected(row)
    asked: dict = {}
    if connected and live:
        asked = freshchat_check.ask(row)
    elif connected:
        kept = freshchat_check.last()
        if kept is not None:
            asked = {**kept[0], "asked_at": kept[1]}
    return Facts(now=now, connected=connected, **_integration_facts(row), **asked,
                 **_session_facts(), **_webhook_facts(now), **_routing_facts(now),
                 **_delivery_facts(now), **_processing_facts(now), **_embeddings_facts())


def _integration_facts(row: Integration) -> dict:
    return {
        "agent_id": row.default_agent_id, "agent_email": row.default_agent_email,
        "agent_name": row.default_agent_name, "integration_status": row.status,
        "unauthorized_since_save": row.unauthorized_since_save or 0, "saved_at": row.saved_at,
        "last_webhook_at": row.last_webhook_at, "assigned_only": not row.auto_handle_all,
    }


def _processing_facts(now: datetime) -> dict:
    pending = Event.status == "pending"
    waiting, conversations, oldest = db.session.execute(
        select(func.count(Event.id), func.count(distinct(Event.conversation_id)),
               func.min(Event.received_at)).where(pending)).one()
    done = _count(select(func.count(Event.id)).where(Event.status != "pending",
                                                     Event.processed_at >= now - RATE_SPAN))
    return {"events_waiting": int(waiting), "conversations_waiting": int(conversations),
            "oldest_event_at": oldest, "events_done_recently": done}


def _count(query) -> int:
    return int(db.session.scalar(query) or 0)


def _session_facts() -> dict:
    closing = or_(func.lower(Event.action).contains("resol"),
                  func.lower(Event.action).contains("clos"))
    return {
        "sessions_total": _count(select(func.count(ChatSession.id))),
        "sessions_open": _count(select(func.count(ChatSession.id))
                                .where(ChatSession.status == "open")),
        "resolution_event_seen": db.session.scalar(select(Event.id).where(closing).limit(1))
        is not None,
    }


def _webhook_facts(now: datetime) -> dict:
    hits, last = db.session.execute(
        select(func.coalesce(func.sum(RevokedWebhook.hits), 0),
               func.max(RevokedWebhook.last_hit_at))).one()
    refused = _count(select(func.count(RefusedWebhook.id))
                     .where(RefusedWebhook.at >= now - RECENT))
    latest = db.session.scalars(select(RefusedWebhook)
                                .order_by(RefusedWebhook.id.desc()).limit(1)).first()
    return {"revoked_hits": int(hits), "revoked_last_hit_at": last, "refused_recent": refused,
            "refused_last_at": latest.at if latest else None,
            "refused_last_status": latest.status if latest else None,
            "refused_last_reason": latest.reason if latest else None}


def _routing_facts(now: datetime) -> dict:
    skipped = (select(func.count(distinct(TimelineEntry.conversation_id)))
               .where(TimelineEntry.kind == "skip",
                      TimelineEntry.summary.startswith(ROUTING_SKIP_PREFIX)))
    return {"skipped_total": _count(skipped),
            "skipped_recent": _count(skipped.where(TimelineEntry.at >= now - RECENT))}


def _delivery_facts(now: datetime) -> dict:
    waiting = OutboxItem.status.in_(("pending", "sending"))
    depth, oldest = db.session.execute(
        select(func.count(OutboxItem.id), func.min(OutboxItem.created_at)).where(waiting)).one()
    rate_limited = (select(func.count(TimelineEntry.id))
                    .where(TimelineEntry.kind == "call",
                           TimelineEntry.at >= now - timedelta(hours=1),
                           TimelineEntry.summary.contains(" → 429 ")))
    return {
        "outbox_depth": int(depth), "oldest_pending_at": oldest,
        "outbox_failed": _count(select(func.count(OutboxItem.id))
                                .where(OutboxItem.status == "failed")),
        "rate_limited_last_hour": _count(rate_limited),
        "failed_events": failures.count(),
        "stranded": sessions.stranded_count(now),
        "stranded_after_minutes": float(settings.get("stranded_after_minutes")),
        "rate_limit_per_minute": int(settings.get("freshchat_rate_limit_per_minute")),
    }


# -- the dedup page ---------------------------------------------------------------------------

@dataclass(frozen=True)
class DedupStats:
    window_hours: float
    keys_in_window: int
    keys_total: int
    duplicates_24h: int
    oldest_key_at: datetime | None
    last_prune_at: datetime | None
    last_prune_removed: int | None


def dedup_stats(now: datetime | None = None) -> DedupStats:
    now = now or utcnow()
    window = float(settings.get("dedup_window_hours"))
    total, oldest = db.session.execute(
        select(func.count(DedupKey.key), func.min(DedupKey.seen_at))).one()
    in_window = select(func.count(DedupKey.key)).where(
        DedupKey.seen_at >= now - timedelta(hours=window))
    duplicates = select(func.count(TimelineEntry.id)).where(
        TimelineEntry.kind == "duplicate", TimelineEntry.at >= now - RECENT)
    prune_at, removed = _last_prune()
    return DedupStats(window_hours=window, keys_in_window=_count(in_window), keys_total=int(total),
                      duplicates_24h=_count(duplicates), oldest_key_at=oldest,
                      last_prune_at=prune_at, last_prune_removed=removed)


def _last_prune() -> tuple[datetime | None, int | None]:
    row = db.session.get(Setting, LAST_PRUNE_KEY)
    if row is None:
        return None, None
    try:
        record = json.loads(row.value)
        return datetime.fromisoformat(record["at"]), int(record["removed"])
    except (ValueError, KeyError, TypeError):
        return row.updated_at, None


def _embeddings_facts() -> dict:
    model = (settings.get("embeddings_model") or "").strip()
    state = db.session.get(EmbeddingsState, 1)
    mine = state is not None and state.model == model
    return {"embeddings_model": model,
            "embeddings_base_url": bool((settings.get("openai_base_url") or "").strip()),
            "embeddings_ok_at": state.last_ok_at if mine else None,
            "embeddings_error": state.last_error if mine else None,
            "embeddings_error_at": state.last_error_at if mine else None}
