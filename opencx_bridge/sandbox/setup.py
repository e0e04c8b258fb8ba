"""Seed the sandbox's stand-in and connect the bridge to it exactly as Test & Save does.

Everything here runs inside the bridge's app context (the `sandbox` command's process).
"""

from __future__ import annotations

import secrets
from pathlib import Path

from flask import current_app

from opencx_bridge.freshchat.account import ConnectError, ConnectRequest
from opencx_bridge.kb import articles, importer
from opencx_bridge.outbox import api_calls
from opencx_bridge.sandbox import ADMIN, AI, REP, SANDBOX_DOMAIN, People
from opencx_bridge.standin import Standin
from opencx_bridge.store import integration
from opencx_bridge.store.models import Integration
from opencx_bridge.store.secrets_box import SecretUnreadable

__all__ = ["SAMPLE_FAQ", "SandboxRefused", "check_connection", "connect", "import_sample_faq",
           "new_standin", "refusal", "replaced_domain"]

SAMPLE_FAQ = Path(__file__).with_name("sample_faq.csv")
WHO = "sandbox"


class SandboxRefused(Exception):
    """The sandbox would overwrite a real Freshchat connection."""


def replaced_domain(row: Integration) -> str | None:
    """The real Freshchat domain the sandbox would replace, if the bridge is connected to one."""
    if integration.is_connected(row) and row.domain != SANDBOX_DOMAIN:
        return row.domain
    return None


def refusal(domain: str) -> str:
    """Why the sandbox does not start over a real connection, and what to do instead."""
    return (
        f"this bridge is connected to Freshchat at {domain}. The sandbox would replace that "
        "connection (token, AI agent, webhook public key) with its local stand-in, and your "
        "real Freshchat would stop being answered.\n"
        "Try the sandbox in a separate instance folder instead:\n"
        "    OPENCX_INSTANCE_PATH=./sandbox-instance .venv/bin/flask --app app sandbox\n"
        "or run it here with --force, then connect the real Freshchat again afterwards "
        "(settings page or `flask --app app freshchat connect`; the webhook URL stays the same)."
    )


def check_connection(force: bool) -> str | None:
    """Raise SandboxRefused over a real connection unless forced; return the domain replaced."""
    domain = replaced_domain(integration.get())
    if domain and not force:
        raise SandboxRefused(refusal(domain))
    return domain


def new_standin() -> tuple[Standin, People]:
    """A stand-in account with an admin (owning a fresh token), the AI agent and a rep."""
    st = Standin(token=secrets.token_urlsafe(24), domain=SANDBOX_DOMAIN)
    admin, ai, rep = (st.add_agent(p.email, p.first_name, p.last_name) for p in (ADMIN, AI, REP))
    st.add_token(st.token, owner_id=admin["id"])
    st.admin, st.ai_agent = admin, ai
    return st, People(admin_id=admin["id"], ai_id=ai["id"], rep_id=rep["id"])


def connect(st: Standin, bridge_url: str) -> str:
    """Test & Save against the running stand-in, then point its webhooks at the bridge.

    The Freshchat API base of this process becomes the stand-in's; the stand-in's public key
    is saved so every webhook is signed and verified. Without OPENCX_PUBLIC_URL the bridge's
    links (the handoff note's session link) name `bridge_url`. Returns the webhook URL.
    """
    current_app.config["FRESHCHAT_API_BASE"] = st.base_url
    if not current_app.config.get("PUBLIC_URL"):
        current_app.config["PUBLIC_URL"] = bridge_url.rstrip("/")
    request = ConnectRequest(SANDBOX_DOMAIN, st.token, AI.email, auto_handle_all=True,
                             webhook_public_key=st.public_key_text)
    try:
        verified = api_calls.check_connection(request)
    except ConnectError as exc:
        raise SandboxRefused(f"could not connect to the stand-in: {exc.message}") from exc
    row = integration.save_connection(verified, who=WHO)
    try:
        token = integration.webhook_token(row)
    except SecretUnreadable:  # saved under another SECRET_KEY: start over with a new URL
        integration.disconnect(who=WHO)
        token = integration.webhook_token(integration.save_connection(verified, who=WHO))
    st.webhook_url = f"{bridge_url.rstrip('/')}{integration.WEBHOOK_PATH}{token}"
    return st.webhook_url


def import_sample_faq() -> int:
    """Import the sample FAQ when the knowledge base is empty; how many articles came in."""
    if articles.count():
        return 0
    report = importer.import_path(SAMPLE_FAQ)
    return report.imported
