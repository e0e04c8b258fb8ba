"""The diagnostics' questions to Freshchat (is the token good, does the AI agent exist),
asked by the worker every FRESHCHAT_CHECK_EVERY_SECONDS and kept with their time. The
Diagnostics page shows the last answer and its age: a page request never waits for the
rate budget behind a backlog of customer replies. `flask freshchat doctor` asks live.
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy.exc import IntegrityError

from opencx_bridge.extensions import db
from opencx_bridge.freshchat import errors
from opencx_bridge.freshchat.account import ConnectError, ConnectRequest, recheck
from opencx_bridge.freshchat.client import FreshchatClient
from opencx_bridge.outbox import api_calls
from opencx_bridge.scheduler.checks import AgentLookup
from opencx_bridge.store import integration
from opencx_bridge.store.models import Integration, Setting, utcnow
from opencx_bridge.store.secrets_box import SecretUnreadable

LAST_CHECK_KEY = "_last_freshchat_check"  # private: not a runtime setting


def ask(row: Integration) -> dict:
    """Freshchat asked now: {connect_error, agent_lookup}, for checks.Facts."""
    try:
        creds = integration.credentials()
    except SecretUnreadable:
        return {"connect_error": "the saved token cannot be read since SECRET_KEY changed: "
                                 "paste the token again",
                "agent_lookup": AgentLookup(error="the saved token cannot be read")}
    request = ConnectRequest(row.domain, creds.token, row.default_agent_email or "",
                             row.auto_handle_all, row.webhook_public_key)
    with integration.client_for(creds, throttle=api_calls.throttle()) as client:
        lookup = _lookup_agent(client, creds.agent_id)
        try:
            recheck(client, request, lookup.agent)
            connect_error = None
        except ConnectError as exc:
            connect_error = exc.message
    return {"connect_error": connect_error, "agent_lookup": lookup}


def _lookup_agent(client: FreshchatClient, agent_id: str) -> AgentLookup:
    try:
        return AgentLookup(agent=client.get_agent(agent_id))
    except errors.NotFound:
        return AgentLookup(missing=True)
    except errors.FreshchatError as exc:
        return AgentLookup(error=str(exc))


def refresh() -> dict | None:
    """Ask Freshchat and keep the answer (None when not connected: nothing to ask)."""
    row = integration.get()
    if not integration.is_connected(row):
        return None
    asked = ask(row)
    lookup = asked["agent_lookup"]
    _store({"at": utcnow().isoformat(), "connect_error": asked["connect_error"],
            "agent": lookup.agent, "missing": lookup.missing, "error": lookup.error,
            "token": _fingerprint(row)})
    return asked


def last() -> tuple[dict, datetime] | None:
    """The last answer kept, and when it was asked; None when there is none for the
    connection saved now (a new Test & Save makes the old answer moot)."""
    row = db.session.get(Setting, LAST_CHECK_KEY)
    if row is None:
        return None
    try:
        kept = json.loads(row.value)
        at = datetime.fromisoformat(kept["at"])
        lookup = AgentLookup(agent=kept.get("agent"), missing=bool(kept.get("missing")),
                             error=kept.get("error"))
    except (ValueError, KeyError, TypeError):
        return None
    if kept.get("token") != _fingerprint(integration.get()):
        return None
    return {"connect_error": kept.get("connect_error"), "agent_lookup": lookup}, at


def due(every_seconds: float, now: datetime) -> bool:
    """Time to ask again. Not while the token is rejected: the token check already says so
    from the database, and asking would only add a 401 until a new token is saved."""
    if every_seconds <= 0 or not integration.is_connected(integration.get()):
        return False
    if api_calls.delivery_paused():
        return False
    found = last()
    return found is None or (now - found[1]).total_seconds() >= every_seconds


def _fingerprint(row: Integration) -> str:
    """Which saved connection an answer is about (no secret in it)."""
    return f"{row.domain}|{row.default_agent_id}|{row.saved_at}"


def _store(value: dict) -> None:
    text = json.dumps(value, default=str)
    row = db.session.get(Setting, LAST_CHECK_KEY)
    if row is None:
        db.session.add(Setting(key=LAST_CHECK_KEY, value=text, updated_at=utcnow()))
    else:
        row.value, row.updated_at = text, utcnow()
    try:
        db.session.commit()
    except IntegrityError:  # another process kept its answer at the same moment
        db.session.rollback()
