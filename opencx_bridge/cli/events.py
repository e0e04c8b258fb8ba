"""`flask events list|retry`: stored webhook events the worker gave up on."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from opencx_bridge.engine import failures
from opencx_bridge.extensions import db
from opencx_bridge.store.models import Event


@click.group("events")
def events() -> None:
    """Stored webhook events."""


@events.command("list")
@click.option("--status", type=click.Choice(("pending", "failed", "ignored", "processed")),
              default="failed", show_default=True)
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 100_000))
@with_appcontext
def list_events(status: str, limit: int) -> None:
    """Events with a status, newest first, with the reason they stopped."""
    rows = db.session.scalars(select(Event).where(Event.status == status)
                              .order_by(Event.id.desc()).limit(limit))
    shown = 0
    for row in rows:
        click.echo(f"{row.id}\t{row.action}\t{row.conversation_id or '-'}\t"
                   f"{row.received_at.isoformat(timespec='seconds')}Z\t{row.error or ''}")
        shown += 1
    if not shown:
        click.echo(f"no {status} events")


@events.command("retry")
@click.argument("event_id", type=int, required=False)
@click.option("--all-failed", is_flag=True, help="Every failed event.")
@with_appcontext
def retry(event_id: int | None, all_failed: bool) -> None:
    """Process a failed event (EVENT_ID) or every failed event again."""
    if (event_id is None) == (not all_failed):
        raise click.UsageError("give one EVENT_ID or --all-failed")
    if event_id is not None:
        row = db.session.get(Event, event_id)
        if row is None:
            raise click.ClickException(f"no event {event_id}")
        if row.status != "failed":
            raise click.ClickException(f"event {event_id} is {row.status}, not failed: "
                                       "nothing to do")
    count = failures.retry(None if all_failed else [event_id])
    click.echo(f"{count} event(s) queued to be processed again")
