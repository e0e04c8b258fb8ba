"""`flask --app app ...` commands, one module per group."""

from flask import Flask

from opencx_bridge.cli import (
    events,
    freshchat,
    kb,
    outbox,
    report,
    sandbox,
    server,
    sessions,
    settings,
    users,
)


def init_app(app: Flask) -> None:
    for command in (server.serve, server.worker, users.users, freshchat.freshchat,
                    sessions.sessions, settings.settings, outbox.outbox, events.events, kb.kb,
                    sandbox.sandbox, report.report_command):
        app.cli.add_command(command)
