"""Freshchat calls made by the worker: one client per job, every call paced and remembered.

The records go to the conversation's timeline with the job's own transaction, and
errors update the integration's health (a 401 pauses delivery until the next Test & Save).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from flask import current_app

from opencx_bridge.extensions import db
from opencx_bridge.freshchat import errors
from opencx_bridge.freshchat.account import ConnectRequest, VerifiedConnection, test_connection
from opencx_bridge.freshchat.client import CallRecord, FreshchatClient
from opencx_bridge.outbox.pacing import RateBudget
from opencx_bridge.store import integration, settings, timeline
from opencx_bridge.store.models import utcnow

BUDGET = "opencx_budget"


def budget() -> RateBudget:
    """The app's shared rate budget (created on first use)."""
    app = current_app._get_current_object()
    found = app.extensions.get(BUDGET)
    if found is None:
        found = RateBudget(db.engine, lambda: int(settings.get("freshchat_rate_limit_per_minute")),
                           float(app.config["FRESHCHAT_RATE_WINDOW_SECONDS"]))
        app.extensions[BUDGET] = found
    return found


def throttle(stopping: threading.Event | None = None):
    """A client hook that spends one token per call, waiting when the budget is empty."""
    shared = budget()

    def wait_for_token() -> None:
        if not shared.acquire(stopping):
            raise errors.Unreachable("the bridge is shutting down; the call was not made")
    return wait_for_token


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

    def __enter__(self) -> ApiJob:
        self.client = integration.client_for(self.creds, observer=self._observe,
                                             throttle=throttle(self.stopping))
        return self

    def __exit__(self, *exc) -> None:
        if self.client is not None:
            self.client.close()

    def _observe(self, record: CallRecord) -> None:
        self.records.append(record)
        if record.status == 429 or record.rate_limit_remaining == 0:
            budget().drain()  # Freshchat counts differently than we do: trust it

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
