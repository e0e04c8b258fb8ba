"""The inbox (sessions, newest first) and a session's page (transcript + timeline).

A first version: the dashboard issue adds live updates, search and pagination at scale.
"""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request

from .. import integration, sessions, timeline

bp = Blueprint("inbox", __name__)


@bp.get("/")
def index():
    status = request.args.get("status") or None
    if status not in (None, *sessions.STATUSES):
        abort(400, f"unknown status {status!r}; use one of {', '.join(sessions.STATUSES)}")
    rows = sessions.recent(status, limit=100)
    contacts = {row.id: sessions.contact_of(row) for row in rows}
    row = integration.get()
    return render_template("inbox.html", rows=rows, contacts=contacts, status=status,
                           connected=integration.is_connected(row), integration=row)


@bp.get("/sessions/<identifier>")
def session(identifier: str):
    row = sessions.find(identifier)
    if row is None:
        abort(404, f"no session with id or conversation id {identifier}")
    return render_template("session.html", row=row, contact=sessions.contact_of(row),
                           messages=sessions.transcript(row),
                           entries=timeline.entries(row.conversation_id))
