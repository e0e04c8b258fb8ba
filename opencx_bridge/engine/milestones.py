"""The moments the overview counts, stamped on the session when they happen, in the
transaction of the change itself. The first of each wins: a later handoff does not
rewrite what happened first."""

from __future__ import annotations

from datetime import datetime

from opencx_bridge.engine.rules import reasons
from opencx_bridge.engine.rules.types import HANDED_OFF, RESOLVED
from opencx_bridge.store.models import ChatSession


def status_changed(session: ChatSession, before: str | None, now: datetime) -> None:
    after = session.status
    if after == HANDED_OFF and before != HANDED_OFF:
        handed_off(session, session.handoff_reason, now)
    if after == RESOLVED and before != RESOLVED:
        resolved(session, now)
    if before == RESOLVED and after != RESOLVED and session.first_resolved_at is not None \
            and session.reopened_at is None:
        session.reopened_at = now
        session.reopened_after_hours = (now - session.first_resolved_at).total_seconds() / 3600


def handed_off(session: ChatSession, reason: str | None, now: datetime) -> None:
    if session.handed_off_at is None:
        session.handed_off_at, session.handoff_kind = now, reasons.kind(reason)


def resolved(session: ChatSession, now: datetime) -> None:
    if session.first_resolved_at is None:
        session.first_resolved_at = now

