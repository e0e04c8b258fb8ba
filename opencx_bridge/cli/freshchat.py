"""`flask freshchat connect|disconnect|status|doctor`."""

from __future__ import annotations

import getpass
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from opencx_bridge.freshchat.account import ConnectError, ConnectRequest
from opencx_bridge.outbox import api_calls
from opencx_bridge.scheduler import checks, diagnostics
from opencx_bridge.store import integration, queue, settings
from opencx_bridge.store.models import utcnow
from opencx_bridge.store.secrets_box import SecretUnreadable


@click.group("freshchat")
def freshchat() -> None:
    """The Freshchat connection."""


@freshchat.command("connect")
@click.option("--domain", required=True, help="yourcompany.freshchat.com")
@click.option("--token", prompt="Freshchat API token", hide_input=True,
              help="API token (Admin Settings → Integrations & APIs); prompted when omitted, "
                   "which keeps it out of the shell history.")
@click.option("--agent-email", required=True, help="Email of the agent the AI answers as.")
@click.option("--auto-handle-all/--assigned-only", default=None,
              help="Claim every unassigned chat, or answer only chats assigned to the AI agent.")
@click.option("--public-key-file", type=click.Path(dir_okay=False, path_type=Path),
              help="Webhook public key from Freshchat's webhook settings (enables signatures).")
@with_appcontext
def connect(domain, token, agent_email, auto_handle_all, public_key_file) -> None:
    """Test & Save: check the connection with Freshchat, then store it."""
    if auto_handle_all is None:
        raise click.UsageError("choose a routing mode: --auto-handle-all or --assigned-only")
    public_key = None
    if public_key_file is not None:
        try:
            public_key = public_key_file.read_text()
        except OSError as exc:
            raise click.ClickException(f"cannot read --public-key-file: {exc.strerror}") from exc
    request = ConnectRequest(domain, token, agent_email, auto_handle_all, public_key)
    try:
        verified = api_calls.check_connection(request)
    except ConnectError as exc:
        raise click.ClickException(f"{exc.message}\nNothing was saved.") from exc
    row = integration.save_connection(verified, who=f"cli ({getpass.getuser()})")
    click.echo(f"connected to {row.domain}; the AI answers as {row.default_agent_name} "
               f"<{row.default_agent_email}>")
    try:
        click.echo(f"webhook URL: {integration.webhook_url(row)}")
    except SecretUnreadable:
        raise click.ClickException(
            "connected, but the webhook URL was saved under another SECRET_KEY and cannot be "
            "shown; webhooks sent to it still arrive. To get a URL you can copy, run "
            "`flask freshchat disconnect`, connect again and paste the new URL in Freshchat."
        ) from None
    if not current_app.config.get("PUBLIC_URL"):
        click.echo("note: OPENCX_PUBLIC_URL is not set, so this URL assumes "
                   f"{integration.public_base_url()}; set it to the address Freshchat reaches "
                   "(the settings page shows the URL for the host you browse it from)")
    click.echo("In Freshchat: Admin Settings → Integrations & APIs → Webhooks: paste the URL and "
               "tick " + ", ".join(label for label, _, _ in integration.WEBHOOK_EVENTS) + ".")


@freshchat.command("disconnect")
@with_appcontext
def disconnect() -> None:
    """Remove the credentials and revoke the webhook URL."""
    if integration.disconnect(who=f"cli ({getpass.getuser()})"):
        click.echo("disconnected; the old webhook URL now answers 404")
    else:
        click.echo("nothing to disconnect")


@freshchat.command("status")
@with_appcontext
def status() -> None:
    """Show the connection and its health."""
    row = integration.get()
    connected = integration.is_connected(row)
    try:
        url = integration.webhook_url(row)
    except SecretUnreadable as exc:
        url = f"unreadable ({exc})"
    lines = {
        "domain": row.domain or "-",
        "connected": "yes" if connected else "no",
        "status": _status_text(row.status),
        "default_agent": (f"{row.default_agent_name} <{row.default_agent_email}>"
                          if row.default_agent_email else "-"),
        "routing": ("auto handle all incoming chats" if row.auto_handle_all
                    else "assigned-only") if connected else "-",
        "webhook_url": url or "-",
        "signature_check": "on" if row.webhook_public_key else "off (no public key saved)",
        "last_webhook": checks.when(row.last_webhook_at),
        "last_api_error": (f"{row.last_api_error} ({checks.when(row.last_api_error_at)})"
                           if row.last_api_error else "none"),
        "backlog": _backlog_text(),
    }
    for key, value in lines.items():
        click.echo(f"{key}: {value}")


@freshchat.command("doctor")
@with_appcontext
def doctor() -> None:
    """Check connection, agent, webhooks, routing, token and delivery; exit 1 on a failure.
    Freshchat is asked now (the Diagnostics page shows the worker's last answer)."""
    results = diagnostics.run(live=True)
    for check in results:
        click.echo(f"{check.id} {check.status} {check.message}")
        if check.status != checks.OK and check.fix:
            click.echo(f"  fix: {check.fix}")
    if checks.failed(results):
        raise SystemExit(1)


def _backlog_text() -> str:
    """Who waits for the AI, and when the queue clears at the recent pace."""
    now = utcnow()
    waiting = queue.waiting(now, settings.get("freshchat_rate_limit_per_minute"), limit=1)
    if not waiting.total:
        return "none: nobody is waiting for the AI"
    oldest = waiting.rows[0].since
    clears = checks.clears_in(waiting.total / waiting.per_minute * 60) \
        if waiting.per_minute > 0 else "unknown"
    return (f"{waiting.total} conversation(s) waiting for the AI, the oldest wrote "
            f"{checks.ago(now, oldest)}; about {clears} to clear at "
            f"{waiting.per_minute:.1f} conversation(s) a minute")


def _status_text(status: str) -> str:
    if status == "token_rejected":
        return ("token rejected: Freshchat answered 401; delivery is paused until a new token "
                "passes Test & Save (flask freshchat connect ...)")
    return status

