"""The Freshchat connection as stored: read it, save a verified one, disconnect."""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass

from flask import current_app, has_request_context, request
from sqlalchemy import select, update

from opencx_bridge import http_sessions
from opencx_bridge.extensions import db
from opencx_bridge.freshchat.account import VerifiedConnection
from opencx_bridge.freshchat.client import FreshchatClient, api_base_for
from opencx_bridge.freshchat.signature import fingerprint, load_public_key
from opencx_bridge.store import secrets_box, settings
from opencx_bridge.store.models import Event, Integration, OutboxItem, RevokedWebhook, utcnow
from opencx_bridge.store.writes import commits

WEBHOOK_PATH = "/webhooks/freshchat/"
REDACTED = "<redacted>"
_WEBHOOK_TOKEN = re.compile(re.escape(WEBHOOK_PATH) + r"[^\s/?#\"'<>]+")


def redact_webhook_tokens(text: str) -> str:
    """The text with every webhook URL's token (the URL's only secret) replaced."""
    return _WEBHOOK_TOKEN.sub(WEBHOOK_PATH + REDACTED, text)
WEBHOOK_EVENTS = (
    ("Message Created", "message_create", "customer messages and rep replies (required)"),
    ("Conversation Assignment", "conversation_assignment", "who the chat is assigned to"),
    ("Conversation Resolved", "conversation_resolution", "resolved or closed in Freshchat"),
    ("Conversation Reopened", "conversation_reopen", "reopened in Freshchat"),
)


def get() -> Integration:
    """The integration row, created empty (and committed) on first use.

    Committed at once so no caller holds SQLite's write lock while it then calls Freshchat
    (the rate budget writes through its own connection and would wait on that lock)."""
    row = db.session.get(Integration, 1)
    if row is None:
        db.session.add(Integration(id=1, status="disconnected", auto_handle_all=True))
        db.session.commit()
        row = db.session.get(Integration, 1)
    return row


@commits
def count_revoked_hit(token: str) -> None:
    """A request to a revoked webhook URL: counted, for the settings page to show."""
    row = db.session.scalar(
        select(RevokedWebhook).where(RevokedWebhook.token_digest == secrets_box.digest(token)))
    if row is not None:
        row.hits += 1
        row.last_hit_at = utcnow()


def is_connected(row: Integration) -> bool:
    return bool(row.domain and row.access_token_enc and row.default_agent_id)


def save_connection(verified: VerifiedConnection, who: str = "cli") -> Integration:
    """Store a connection that passed Test & Save; keep the webhook URL when there is one."""
    row = get()
    _audit(row, verified, who)
    row.domain = verified.domain
    row.access_token_enc = secrets_box.encrypt(verified.access_token)
    row.default_agent_id = verified.agent_id
    row.default_agent_email = verified.agent_email
    row.default_agent_name = verified.agent_name
    row.default_agent_avatar_url = verified.agent_avatar_url
    row.auto_handle_all = verified.auto_handle_all
    row.webhook_public_key = verified.webhook_public_key
    if not row.webhook_token_enc:
        token = secrets.token_urlsafe(32)
        row.webhook_token_enc = secrets_box.encrypt(token)
        row.webhook_token_digest = secrets_box.digest(token)
    now = utcnow()
    row.connected_at = row.connected_at or now
    row.saved_at = now
    row.status = "connected"
    row.last_api_error = None
    row.last_api_error_at = None
    row.unauthorized_since_save = 0
    _everything_due_now()
    db.session.commit()
    return row


def _everything_due_now() -> None:
    """A connection that passed Test & Save: what waited for it (a rejected token, a failed
    read, a backoff) is tried at once, not when its backoff would have ended."""
    now = utcnow()
    db.session.execute(update(Event).where(Event.status == "pending",
                                           Event.next_attempt_at > now)
                       .values(next_attempt_at=now))
    db.session.execute(update(OutboxItem).where(OutboxItem.status == "pending",
                                                OutboxItem.next_attempt_at > now)
                       .values(next_attempt_at=now))


def disconnect(who: str = "cli") -> bool:
    """Forget the credentials and revoke the webhook URL. False when nothing was connected."""
    row = get()
    had_anything = bool(row.domain or row.webhook_token_digest)
    if had_anything:
        settings.record_change(who, "freshchat_connection", row.domain or "-", "disconnected")
    if row.webhook_token_digest:
        db.session.add(RevokedWebhook(token_digest=row.webhook_token_digest))
    for field in ("domain", "access_token_enc", "default_agent_id", "default_agent_email",
                  "default_agent_name", "default_agent_avatar_url", "webhook_public_key",
                  "webhook_token_enc", "webhook_token_digest", "connected_at", "saved_at"):
        setattr(row, field, None)
    row.status = "disconnected"
    db.session.commit()
    return had_anything


def _audit(row: Integration, verified: VerifiedConnection, who: str) -> None:
    """Record each Freshchat setting that changes; the token only as "changed"."""
    changes = {
        "freshchat_domain": (row.domain, verified.domain),
        "freshchat_default_agent_email": (row.default_agent_email, verified.agent_email),
        "freshchat_auto_handle_all": (row.auto_handle_all if row.domain else None,
                                      verified.auto_handle_all),
        "freshchat_webhook_public_key": (_key_label(row.webhook_public_key),
                                         _key_label(verified.webhook_public_key)),
    }
    for key, (old, new) in changes.items():
        if old != new:
            settings.record_change(who, key, json.dumps(old), json.dumps(new))
    try:
        old_token = secrets_box.decrypt(row.access_token_enc) if row.access_token_enc else None
    except secrets_box.SecretUnreadable:
        old_token = "(unreadable)"
    if old_token != verified.access_token:
        settings.record_change(who, "freshchat_access_token", secrets_box.mask(old_token) or '""',
                               secrets_box.mask(verified.access_token))


def _key_label(text: str | None) -> str | None:
    return f"key {fingerprint(load_public_key(text))}" if text else None


def webhook_token(row: Integration) -> str | None:
    return secrets_box.decrypt(row.webhook_token_enc) if row.webhook_token_enc else None


def webhook_url(row: Integration) -> str | None:
    token = webhook_token(row)
    if not token:
        return None
    return f"{public_base_url()}{WEBHOOK_PATH}{token}"


def public_base_url() -> str:
    configured = current_app.config.get("PUBLIC_URL")
    if configured:
        return str(configured).rstrip("/")
    if has_request_context():
        return request.host_url.rstrip("/")
    return "http://localhost:5000"


def api_base(row: Integration) -> str:
    return api_base_for(row.domain or "", current_app.config.get("FRESHCHAT_API_BASE"))


@dataclass(frozen=True)
class Credentials:
    """What the worker needs to call Freshchat, read once per job."""

    api_base: str
    token: str
    domain: str
    agent_id: str
    agent_name: str | None


def credentials() -> Credentials | None:
    row = get()
    if not is_connected(row):
        return None
    return Credentials(
        api_base=api_base(row),
        token=secrets_box.decrypt(row.access_token_enc),
        domain=row.domain,
        agent_id=row.default_agent_id,
        agent_name=row.default_agent_name,
    )


def client_for(creds: Credentials, observer=None, throttle=None) -> FreshchatClient:
    timeout = float(current_app.config["FRESHCHAT_TIMEOUT"])
    return FreshchatClient(creds.api_base, creds.token, session=http_sessions.for_this_thread(),
                           timeout=timeout, observer=observer, throttle=throttle)

