"""`flask sessions list|show|export|return-to-ai`."""

from __future__ import annotations

import getpass

import click
from flask.cli import with_appcontext

from opencx_bridge.engine import session_actions
from opencx_bridge.outcomes import export, period
from opencx_bridge.store import session_list, settings, timeline
from opencx_bridge.store import sessions as lookup
from opencx_bridge.store.models import utcnow


@click.group("sessions")
def sessions() -> None:
    """Conversations the bridge has seen."""


@sessions.command("list")
@click.option("--status", type=click.Choice(lookup.STATUSES))
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10000))
@with_appcontext
def list_sessions(status: str | None, limit: int) -> None:
    rows = lookup.recent(status, limit)
    if not rows:
        click.echo("no sessions" + (f" with status {status}" if status else ""))
    contacts = session_list.contacts_of(rows)  # one query for all, as the inbox does
    for row in rows:
        contact = contacts.get(row.contact_id)
        who = (contact.email or contact.name or f"contact {contact.id}") if contact else "-"
        click.echo(f"{row.id}\t{row.status}\t{row.conversation_id}\t{who}\t"
                   f"{row.created_at.isoformat(timespec='seconds')}Z")


@sessions.command("export")
@click.option("--since", help="only sessions that started on or after this day, YYYY-MM-DD")
@click.option("--status", type=click.Choice(lookup.STATUSES))
@with_appcontext
def export_sessions(since: str | None, status: str | None) -> None:
    """Every session as CSV on standard output (one row each, streamed)."""
    start = None
    if since:
        try:
            start = period.between(since, None, period.team_zone(), utcnow()).since
        except period.PeriodError as exc:
            raise click.UsageError(str(exc)) from exc
    found = export.rows(settings.get("reopen_window_hours"), start, status)
    for chunk in export.csv_chunks(found):
        click.echo(chunk, nl=False)


@sessions.command("return-to-ai")
@click.argument("identifier")
@with_appcontext
def return_to_ai(identifier: str) -> None:
    """Give a handed-off session (id or conversation id) back to the AI."""
    row = _session(identifier)
    try:
        session_actions.return_to_ai(row, who=f"cli ({getpass.getuser()})")
    except session_actions.ActionError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"session {row.id} goes back to the AI: the worker assigns it to the AI agent "
               "and answers a message left waiting")


@sessions.command("show")
@click.argument("identifier")
@with_appcontext
def show(identifier: str) -> None:
    """IDENTIFIER is a session id or a Freshchat conversation id."""
    row = _session(identifier)
    contact = lookup.contact_of(row)
    fields = {
        "session": row.id,
        "conversation_id": row.conversation_id,
        "status": row.status,
        "routing_mode": row.routing_mode,
        "assigned_agent": row.assigned_agent_name or row.assigned_agent_id or "-",
        "handoff_reason": row.handoff_reason or "-",
        "contact": (f"{contact.id} {contact.email or '(no email)'}"
                    + (f" {contact.name}" if contact.name else "")) if contact else "-",
        "freshchat_url": row.freshchat_url or "-",
        "created": row.created_at.isoformat(timespec="seconds") + "Z",
        "awaiting_reply": "yes" if row.awaiting_reply else "no",
    }
    for key, value in fields.items():
        click.echo(f"{key}: {value}")
    click.echo("transcript:")
    for message in lookup.transcript(row):
        click.echo(f"  [{message.author}] {message.text}")
    click.echo("timeline:")
    for entry in timeline.entries(row.conversation_id):
        click.echo(f"  {entry.at.isoformat(timespec='seconds')}Z {entry.kind}: {entry.summary}")


def _session(identifier: str):
    row = lookup.find(identifier)
    if row is None:
        raise click.ClickException(f"no session with id or conversation id {identifier!r}")
    return row
