"""Read the facts the diagnostics decide on: the database, and Freshchat asked just now.

Freshchat calls spend the shared rate budget, so one view makes as few as give every check
its answer: GET /v2/agents/{id} for the default agent and GET /v2/accounts/configuration,
on one client; Test & Save's walk over every /agents page only when that agent is not
active under the saved email (then the walk says why). Nothing is written: a failing check
changes no state, it only says what to fix.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import distinct, func, or_, select

from opencx_bridge.engine import failures
from opencx_bridge.extensions import db
from opencx_bridge.freshchat import errors
from opencx_bridge.freshchat.account import ConnectError, ConnectRequest, recheck
from opencx_bridge.freshchat.client import FreshchatClient
from opencx_bridge.outbox import api_calls
from opencx_bridge.scheduler.checks import RECENT, AgentLookup, Check, Facts, run_checks
from opencx_bridge.scheduler.prune import LAST_PRUNE_KEY
from opencx_bridge.store import integration, sessions, settings
from opencx_bridge.store.models import (
    ChatSession,
    DedupKey,
    Event,
    Integration,
    OutboxItem,
    RevokedWebhook,
    Setting,
    TimelineEntry,
    utcnow,
)
from opencx_bridge.store.secrets_box import SecretUnreadable

ROUTING_SKIP_PREFIX = "assigned-only"


def run(now: datetime | None = None) -> list[Check]:
    return run_checks(gather(now))


def gather(now: datetime | None = None) -> Facts:
    now = now or utcnow()
    row = integration.get()
    connected = integration.is_connected(row)
    asked = _ask_freshchat(row) if connected else {}
    return Facts(now=now, connected=connected, **_integration_facts(row), **asked,
                 **_session_facts(), **_webhook_facts(), **_routing_facts(now),
                 **_delivery_facts(now))


def _integration_facts(row: Integration) -> dict:
    return {
        "agent_id": row.default_agent_id, "agent_email": row.default_agent_email,
        "agent_name": row.default_agent_name, "integration_status": row.status,
        "unauthorized_since_save": row.unauthorized_since_save or 0, "saved_at": row.saved_at,
        "last_webhook_at": row.last_webhook_at, "assigned_only": not row.auto_handle_all,
    }


def _ask_freshchat(row: Integration) -> dict:
    try:
        creds = integration.credentials()
    except SecretUnreadable:
        return {"connect_error": "the saved token cannot be read since SECRET_KEY changed: "
                                 "paste the token again",
                "agent_lookup": AgentLookup(error="the saved token cannot be read")}
    request = ConnectRequest(row.domain, creds.token, row.default_agent_email or "",
                             row.auto_handle_all, row.webhook_public_key)
    with integration.client_for(creds, throttle=api_calls.throttle()) as client:
        lookup = _lookup_agent(client, creds.agent_id)
        try:
            recheck(client, request, lookup.agent)
            connect_error = None
        except ConnectError as exc:
            connect_error = exc.message
    return {"connect_error": connect_error, "agent_lookup": lookup}


def _lookup_agent(client: FreshchatClient, agent_id: str) -> AgentLookup:
    try:
        return AgentLookup(agent=client.get_agent(agent_id))
    except errors.NotFound:
        return AgentLookup(missing=True)
    except errors.FreshchatError as exc:
        return AgentLookup(error=str(exc))


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


def _webhook_facts() -> dict:
    hits, last = db.session.execute(
        select(func.coalesce(func.sum(RevokedWebhook.hits), 0),
               func.max(RevokedWebhook.last_hit_at))).one()
    return {"revoked_hits": int(hits), "revoked_last_hit_at": last}


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
