"""`flask users create|list|delete`."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from opencx_bridge.store import users as accounts


@click.group("users")
def users() -> None:
    """Dashboard accounts."""


@users.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice(accounts.ROLES), required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              help=f"At least {accounts.MIN_PASSWORD} characters (prompted when omitted).")
@with_appcontext
def create(email: str, role: str, password: str) -> None:
    """Create a dashboard user."""
    try:
        user = accounts.create(email, password, role)
    except accounts.UserError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"created {user.role} {user.email}")


@users.command("list")
@with_appcontext
def list_users() -> None:
    """List dashboard users."""
    rows = accounts.all_users()
    if not rows:
        click.echo("no users yet: open the dashboard or run `flask users create`")
    for user in rows:
        last = user.last_login_at.isoformat(timespec="seconds") if user.last_login_at else "never"
        click.echo(f"{user.email}\t{user.role}\tlast login {last}")


@users.command("delete")
@click.argument("email")
@with_appcontext
def delete(email: str) -> None:
    """Delete a dashboard user."""
    try:
        accounts.delete(email)
    except accounts.UserError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"deleted {email.strip().lower()}")
