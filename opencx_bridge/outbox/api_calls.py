"""Freshchat calls made by the worker: one client per job, every call paced and remembered.

The records go to the conversation's timeline with the job's own transaction, and
errors update the integration's health (a 401 pauses delivery until the next Test & Save).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from flask import current_app

from opencx_bridge.extensions import db
from opencx_bridge.freshchat import errors
from opencx_bridge.freshchat.account import ConnectRequest, VerifiedConnection, test_connection
from opencx_bridge.freshchat.client import CallRecord, FreshchatClient
from opencx_bridge.outbox.pacing import PriorityGate, RateBudget
from opencx_bridge.store import integration, settings, timeline
from opencx_bridge.store.models import utcnow

BUDGET, GATE = "opencx_budget", "opencx_budget_gate"
# Who goes first when calls wait for the budget (the first part of a PriorityGate key):
CUSTOMER = 0  # on the way to what a customer sees: the reads before a reply, claim, reply
TEAM = 1  # notes, unassign, resolve, the profile a handoff note names; people's own checks
LATER = 2  # reads that can wait: profiles for the dashboard, the diagnostics' questions


class NoSpareBudget(errors.FreshchatError):
    """A read that can wait found no spare token: it is skipped, not sent."""

    retryable = True


def budget() -> RateBudget:
    """The app's shared rate budget (created on first use)."""
    app = current_app._get_current_object()
    found = app.extensions.get(BUDGET)
    if found is None:
        found = RateBudget(db.engine, lambda: int(settings.get("freshchat_rate_limit_per_minute")),
                           float(app.config["FRESHCHAT_RATE_WINDOW_SECONDS"]))
        app.extensions[BUDGET] = found
    return found


def gate() -> PriorityGate:
    """This process's queue in front of the budget."""
    app = current_app._get_current_object()
    found = app.extensions.get(GATE)
    if found is None:
        found = app.extensions[GATE] = PriorityGate(budget())
    return found


def throttle(stopping: threading.Event | None = None,
             key: Callable[[], tuple] | None = None):
    """A client hook that spends one token per call, waiting its turn (`key`, by default
    the TEAM tier in arrival order) when the budget is empty."""
    shared = gate()

    def wait_for_token() -> None:
        if not shared.acquire(key() if key else (TEAM, time.time()), stopping):
            raise errors.Unreachable("the bridge is shutting down; the call was not made")
    return wait_for_token


def spare_throttle():
    """A client hook for reads that can wait: a token from a full bucket or no call."""
    shared = budget()

    def take_spare_token() -> None:
        if shared.try_take(spare_only=True) > 0:
            raise NoSpareBudget("no spare rate budget now; the read waits for a quieter moment")
    return take_spare_token


def arrival(moment: datetime | None) -> float:
    """A naive-UTC time as the epoch seconds a PriorityGate key orders by."""
    return moment.replace(tzinfo=UTC).timestamp() if moment else time.time()


def check_connection(request: ConnectRequest) -> VerifiedConnection:
    """Test & Save's checks with this app's API base and timeout, paced like every call."""
    return test_connection(request, api_base=current_app.config.get("FRESHCHAT_API_BASE"),
                           timeout=float(current_app.config["FRESHCHAT_TIMEOUT"]),
                           throttle=throttle())


@dataclass
class ApiJob:
    creds: integration.Credentials
    stopping: threading.Event | None = None
    records: list[CallRecord] = field(default_factory=list)
    client: FreshchatClient | None = None
    priority: tuple = (TEAM, 0.0)  # the PriorityGate key of the job's next call
    spare_only: bool = False  # reads that can wait: a spare token or NoSpareBudget

    def __enter__(self) -> ApiJob:
        hook = spare_throttle() if self.spare_only else throttle(self.stopping,
                                                                 lambda: self.priority)
        self.client = integration.client_for(self.creds, observer=self._observe, throttle=hook)
        return self

    def __exit__(self, *exc) -> None:
        if self.client is not None:
            self.client.close()

    def _observe(self, record: CallRecord) -> None:
        self.records.append(record)
        if record.status == 429 or record.rate_limit_remaining == 0:
            budget().drain(record.retry_after)  # Freshchat counts otherwise: trust it

    def write_timeline(self, conversation_id: str) -> None:
        """Add the calls made so far to the current transaction, then forget them."""
        for record in self.records:
            status = record.status if record.status is not None else "no answer"
            summary = f"{record.method} {record.path} → {status} in {record.latency_ms:.0f} ms"
            if record.error:
                summary += f": {record.error}"
            timeline.add(conversation_id, "call", summary, {
                "method": record.method, "path": record.path, "status": record.status,
                "latency_ms": round(record.latency_ms, 1), "error": record.error,
            })
        self.records.clear()


def note_failure(error: errors.FreshchatError) -> None:
    """Remember the last API error; a rejected token pauses delivery."""
    row = integration.get()
    row.last_api_error = f"{error.status or ''} {error.message}".strip()
    row.last_api_error_at = utcnow()
    if isinstance(error, errors.Unauthorized):
        row.status = "token_rejected"
        row.unauthorized_since_save = (row.unauthorized_since_save or 0) + 1


def delivery_paused() -> bool:
    return integration.get().status == "token_rejected"
