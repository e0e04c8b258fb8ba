"""Sessions as CSV, one row each, streamed: rows are read in batches and written as they
come, so a hundred thousand sessions never sit in memory at once."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import case, select

from opencx_bridge.extensions import db
from opencx_bridge.outcomes import figures
from opencx_bridge.store.models import ChatSession as S
from opencx_bridge.store.models import Contact

COLUMNS = ("session_id", "conversation_id", "freshchat_url", "contact_email", "status",
           "outcome", "handoff_reason", "first_reply_seconds", "created_at", "resolved_at")
BATCH = 1000
# Outcomes in the order they are told apart (the first that holds is the session's).
OUTCOMES = ("reopened_after_ai", "ai_resolved", "taken_over", "handed_off")


def rows(window_hours: float, since: datetime | None = None,
         status: str | None = None) -> Iterator[list]:
    outcome = case(*[(figures.condition(name, window_hours), name) for name in OUTCOMES],
                   else_=case((S.status == "resolved", "resolved_other"), else_="in_progress"))
    statement = (
        select(S.id, S.conversation_id, S.freshchat_url, Contact.email, S.status, outcome,
               S.handoff_reason, S.first_reply_seconds, S.created_at, S.resolved_at)
        .outerjoin(Contact, Contact.id == S.contact_id).order_by(S.id)
        .execution_options(yield_per=BATCH))
    if since is not None:
        statement = statement.where(S.created_at >= since)
    if status:
        statement = statement.where(S.status == status)
    for found in db.session.execute(statement):
        yield list(found)


def csv_chunks(found: Iterator[list]) -> Iterator[str]:
    """The header, then the rows in chunks of BATCH lines."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for count, values in enumerate(found, 1):
        writer.writerow([_cell(value) for value in values])
        if count % BATCH == 0:
            yield _drain(buffer)
    yield _drain(buffer)


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds") + "Z"
    if isinstance(value, float):
        return f"{value:.1f}"
    text = str(value)
    # A cell a spreadsheet would run as a formula (CSV injection) is kept as text.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
