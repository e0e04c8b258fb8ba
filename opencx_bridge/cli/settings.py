"""`flask settings show|set`: every runtime setting, validated."""

from __future__ import annotations

import getpass

import click
from flask.cli import with_appcontext

from opencx_bridge.store import settings as registry


@click.group("settings")
def settings() -> None:
    """Runtime settings stored in the database."""


@settings.command("show")
@with_appcontext
def show() -> None:
    for key, value in registry.all_values().items():
        click.echo(f"{key} = {registry.display(key, value)}\t# {registry.SPECS[key].help}")


@settings.command("set", context_settings={"ignore_unknown_options": True})
@click.argument("key")
@click.argument("value")
@with_appcontext
def set_(key: str, value: str) -> None:
    try:
        stored = registry.set_value(key, value, who=f"cli ({getpass.getuser()})")
    except registry.SettingError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{key} = {registry.display(key, stored)}")
