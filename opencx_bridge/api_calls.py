"""Freshchat calls made by the worker: one client per job, every call remembered.

The records go to the conversation's timeline with the job's own transaction, and
errors update the integration's health (a 401 pauses delivery until the next Test & Save).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import integration, timeline
from .freshchat import errors
from .freshchat.client import CallRecord, FreshchatClient
from .models import utcnow


@dataclass
class ApiJob:
    creds: integration.Credentials
    records: list[CallRecord] = field(default_factory=list)
    client: FreshchatClient | None = None

    def __enter__(self) -> ApiJob:
        self.client = integration.client_for(self.creds, observer=self.records.append)
        return self

    def __exit__(self, *exc) -> None:
        if self.client is not None:
            self.client.close()

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
