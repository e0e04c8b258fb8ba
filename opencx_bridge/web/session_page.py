"""A session's page: transcript, timeline and Freshchat calls, live like the inbox; the
admin actions (hand off now, resolve, retry a failed call); the support bundle."""

from __future__ import annotations

import hashlib
import json

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import func, select

from opencx_bridge.engine import session_actions
from opencx_bridge.extensions import db
from opencx_bridge.store import integration, sessions, timeline
from opencx_bridge.store.models import ChatSession, Message, OutboxItem, TimelineEntry, utcnow
from opencx_bridge.web import present, support_bundle
from opencx_bridge.web.auth import require_admin
from opencx_bridge.worker import runner

TIMELINE_SHOWN = 300


bp = Blueprint("session_page", __name__)


@bp.get("/sessions/<identifier>")
def session(identifier: str):
    row = _session_or_404(identifier)
    key = _change_key(row)  # before the content: a change in between shows on the next poll
    return render_template("session.html", row=row, live=_live(row), digest=key)


@bp.get("/sessions/<identifier>/live")
def session_live(identifier: str):
    """The live part of a session's page, for htmx; 204 when the caller already shows it.
    The cheap change key decides, so an idle page loads no transcript, timeline or calls."""
    row = _session_or_404(identifier)
    key = _change_key(row)
    if request.args.get("seen") == key:
        return "", 204
    return render_template("_live.html", body=_live(row), digest=key, seen_id="session-seen")


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


@bp.post("/sessions/<identifier>/return-to-ai")
def return_to_ai(identifier: str):
    row = _checked_post(identifier)
    return _act(row, lambda: session_actions.return_to_ai(row, current_user.email),
                "Returned to the AI: it takes the conversation back in Freshchat and answers "
                "the customer (a message left waiting at once, or the next one).")


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
        flash(f"Nothing was done: {exc}.", "error")
    else:
        runner.wake(current_app._get_current_object())
        flash(done, "success")
    return redirect(url_for("session_page.session", identifier=row.id), code=303)


def _checked_post(identifier: str) -> ChatSession:
    require_admin()
    return _session_or_404(identifier)


def _session_or_404(identifier: str) -> ChatSession:
    row = sessions.find(identifier)
    if row is None:
        abort(404, f"no session with id or conversation id {identifier}")
    return row


def _live(row: ChatSession) -> Markup:
    entries = timeline.entries(row.conversation_id, TIMELINE_SHOWN)
    return Markup(render_template(
        "_session_live.html", row=row, contact=sessions.contact_of(row),
        messages=sessions.transcript(row), entries=entries,
        facts={entry.id: present.facts(entry) for entry in entries}, shown=TIMELINE_SHOWN,
        calls=session_actions.calls(row.conversation_id), now=utcnow(),
        connected=integration.is_connected(integration.get())))


def _change_key(row: ChatSession) -> str:
    """A digest of everything _session_live.html shows, from markers instead of the rows:
    the session's shown fields, the contact, the "started … ago" text (minute granularity),
    who is looking, the connection, and the markers of messages, timeline and calls."""
    contact = sessions.contact_of(row)
    shown = (row.status, row.conversation_id, row.freshchat_url, row.routing_mode,
             row.assigned_agent_name, row.assigned_agent_id, row.handoff_reason,
             row.created_at, present.ago(row.created_at, utcnow()),
             contact and (contact.name, contact.email), current_user.is_admin,
             integration.is_connected(integration.get()),
             _log_markers(row), _call_markers(row.conversation_id))
    return hashlib.sha256(repr(shown).encode()).hexdigest()[:16]


def _log_markers(row: ChatSession) -> tuple:
    """Newest id and count of the transcript and of the timeline (both only grow; the count
    also catches rows that go away), in one statement over their indexes."""
    def newest_and_count(model, where):
        return (select(func.max(model.id)).where(where).scalar_subquery(),
                select(func.count(model.id)).where(where).scalar_subquery())
    return tuple(db.session.execute(select(
        *newest_and_count(Message, Message.session_id == row.id),
        *newest_and_count(TimelineEntry, TimelineEntry.conversation_id == row.conversation_id),
    )).one())


def _call_markers(conversation_id: str) -> list[tuple]:
    """Per status: how many calls, the sum of their ids and of their attempts. A call that
    moves (pending → sending → sent/failed, a retry, a cancel) changes two groups; every
    send bumps attempts, and the answer, latency and error are only written after one."""
    return [tuple(found) for found in db.session.execute(
        select(OutboxItem.status, func.count(OutboxItem.id), func.sum(OutboxItem.id),
               func.sum(OutboxItem.attempts))
        .where(OutboxItem.status.in_(session_actions.OUTBOX_STATUSES),
               OutboxItem.conversation_id == conversation_id)
        .group_by(OutboxItem.status).order_by(OutboxItem.status))]
