"""A session's page: transcript, timeline and Freshchat calls, live like the inbox; the
admin actions (hand off now, resolve, retry a failed call); the support bundle."""

from __future__ import annotations

import json

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from .. import integration, session_actions, sessions, support_bundle, worker
from ..extensions import db
from ..models import ChatSession, utcnow
from . import present
from .auth import require_admin
from .inbox import bp

TIMELINE_SHOWN = 300


@bp.get("/sessions/<identifier>")
def session(identifier: str):
    row = _session_or_404(identifier)
    live, digest = _live(row)
    return render_template("session.html", row=row, live=live, digest=digest)


@bp.get("/sessions/<identifier>/live")
def session_live(identifier: str):
    """The live part of a session's page, for htmx; 204 when the caller already shows it."""
    live, digest = _live(_session_or_404(identifier))
    if request.args.get("seen") == digest:
        return "", 204
    return render_template("_live.html", body=live, digest=digest, seen_id="session-seen")


@bp.get("/sessions/<identifier>/bundle.json")
def bundle(identifier: str):
    row = _session_or_404(identifier)
    body = json.dumps(support_bundle.build(row), indent=2, ensure_ascii=False)
    download = f'attachment; filename="opencx-session-{row.id}-bundle.json"'
    return Response(body + "\n", mimetype="application/json",
                    headers={"Content-Disposition": download, "Cache-Control": "no-store"})


@bp.post("/sessions/<identifier>/handoff")
def hand_off(identifier: str):
    row = _checked_post(identifier)
    return _act(row, lambda: session_actions.hand_off(row, current_user.email),
                "Handed off: the customer is told a person will answer, and the team gets "
                "a private note.")


@bp.post("/sessions/<identifier>/resolve")
def resolve(identifier: str):
    row = _checked_post(identifier)
    return _act(row, lambda: session_actions.resolve(row, current_user.email),
                "Resolved: Freshchat is told to resolve the conversation.")


@bp.post("/sessions/<identifier>/calls/<int:item_id>/retry")
def retry(identifier: str, item_id: int):
    row = _checked_post(identifier)
    return _act(row, lambda: session_actions.retry(row, item_id, current_user.email),
                f"Call #{item_id} is queued to be sent again.")


def _act(row: ChatSession, action, done: str):
    try:
        action()
    except session_actions.ActionError as exc:
        db.session.rollback()
        flash(f"Nothing was done: {exc}.", "error")
    else:
        db.session.commit()
        worker.wake(current_app._get_current_object())
        flash(done, "success")
    return redirect(url_for("inbox.session", identifier=row.id), code=303)


def _checked_post(identifier: str) -> ChatSession:
    require_admin()
    return _session_or_404(identifier)


def _session_or_404(identifier: str) -> ChatSession:
    row = sessions.find(identifier)
    if row is None:
        abort(404, f"no session with id or conversation id {identifier}")
    return row


def _live(row: ChatSession):
    entries = support_bundle.latest_entries(row.conversation_id, TIMELINE_SHOWN)
    return present.live_fragment(
        "_session_live.html", row=row, contact=sessions.contact_of(row),
        messages=sessions.transcript(row), entries=entries,
        facts={entry.id: present.facts(entry) for entry in entries}, shown=TIMELINE_SHOWN,
        calls=session_actions.calls(row.conversation_id), now=utcnow(),
        connected=integration.is_connected(integration.get()))
