"""`flask outbox list|retry`: what is waiting to go to Freshchat, and what failed."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from opencx_bridge.engine.session_actions import OUTBOX_STATUSES as STATUSES
from opencx_bridge.extensions import db
from opencx_bridge.outbox import delivery
from opencx_bridge.store.models import OutboxItem


@click.group("outbox")
def outbox() -> None:
    """Freshchat calls queued by the bridge."""


@outbox.command("list")
@click.option("--status", type=click.Choice(STATUSES),
              help="Only rows with this status (default: everything not sent).")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 100_000))
@with_appcontext
def list_rows(status: str | None, limit: int) -> None:
    query = select(OutboxItem).order_by(OutboxItem.id.desc()).limit(limit)
    if status:
        query = query.where(OutboxItem.status == status)
    else:
        query = query.where(OutboxItem.status.not_in(("sent", "cancelled")))
    rows = list(db.session.scalars(query))
    if not rows:
        click.echo("outbox is empty" if not status else f"no {status} rows")
    for row in reversed(rows):
        error = f"\t{row.last_status or ''} {row.last_error}" if row.last_error else ""
        click.echo(f"{row.id}\t{row.status}\t{row.kind}\t{row.conversation_id}\t"
                   f"attempts={row.attempts}\tnext={row.next_attempt_at.isoformat(timespec='seconds')}Z"
                   f"{error}")


@outbox.command("retry")
@click.argument("item_id", required=False, type=int)
@click.option("--all-failed", is_flag=True, help="Retry every failed row.")
@with_appcontext
def retry(item_id: int | None, all_failed: bool) -> None:
    """Send a failed row (ITEM_ID) or every failed row again."""
    if (item_id is None) == (not all_failed):
        raise click.UsageError("give one ITEM_ID or --all-failed")
    if item_id is not None:
        row = db.session.get(OutboxItem, item_id)
        if row is None:
            raise click.ClickException(f"no outbox row {item_id}")
        if row.status != "failed":
            raise click.ClickException(f"row {item_id} is {row.status}, not failed: nothing to do")
    count = delivery.retry_failed(None if all_failed else [item_id])
    click.echo(f"{count} row(s) queued again")
