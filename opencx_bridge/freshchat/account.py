"""Test & Save: check a Freshchat connection against Freshchat before anything is stored.

Shared by the settings page and `flask freshchat connect`; the diagnostics ask again with
recheck. The checks raise ConnectError naming the form field at fault; the caller saves
only when every check passed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from opencx_bridge.freshchat import errors
from opencx_bridge.freshchat.client import FreshchatClient, api_base_for, has_email, is_active
from opencx_bridge.freshchat.signature import InvalidPublicKey, load_public_key

DOMAIN_HINT = "yourcompany.freshchat.com"
TOKEN_REJECTED = (
    "Freshchat rejected the access token (revoked, rotated or mistyped): "
    "generate a new one in Admin Settings → Integrations & APIs"
)
TOKEN_FORBIDDEN = (
    "the access token lacks conversation-management permission: generate it as an admin "
    "whose role may manage conversations (Admin Settings → Integrations & APIs)"
)
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class ConnectError(Exception):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class ConnectRequest:
    domain: str
    access_token: str
    default_agent_email: str
    auto_handle_all: bool
    webhook_public_key: str | None  # None or "" = no signature verification


@dataclass(frozen=True)
class VerifiedConnection:
    domain: str
    access_token: str
    auto_handle_all: bool
    webhook_public_key: str | None
    agent_id: str
    agent_email: str
    agent_name: str
    agent_avatar_url: str | None


def normalise_domain(text: str) -> str:
    """`https://Acme.freshchat.com/` → `acme.freshchat.com`; anything else is refused."""
    value = (text or "").strip()
    bad = ConnectError(
        "domain", f"domain: {value!r} is not a Freshchat domain; expected a host name like "
        f"{DOMAIN_HINT} (no path, port or spaces)"
    )
    if not value or any(ch.isspace() for ch in value):
        raise bad
    if "://" not in value:
        value = "//" + value
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError as exc:
        raise bad from exc
    host = (parts.hostname or "").rstrip(".")
    if port or parts.username or parts.query or parts.fragment or parts.path not in ("", "/"):
        raise bad
    if parts.scheme not in ("", "http", "https"):
        raise bad
    labels = host.split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        raise bad
    if labels[-1].isdigit():
        raise bad  # an IP address is not a Freshchat domain
    return host


def normalise_email(text: str) -> str:
    value = (text or "").strip()
    if not _EMAIL.match(value):
        raise ConnectError("default_agent_email", f"{value!r} is not an email address")
    return value


def check_public_key(text: str | None) -> str | None:
    if not text or not text.strip():
        return None
    try:
        load_public_key(text)
    except InvalidPublicKey as exc:
        raise ConnectError("webhook_public_key", str(exc)) from exc
    return text.strip()


@dataclass(frozen=True)
class CheckedInput:
    domain: str
    email: str
    public_key: str | None
    token: str


def check_input(request: ConnectRequest) -> CheckedInput:
    """The checks that need no call to Freshchat; ConnectError on the first failure."""
    domain = normalise_domain(request.domain)
    email = normalise_email(request.default_agent_email)
    public_key = check_public_key(request.webhook_public_key)
    if not (request.access_token or "").strip():
        raise ConnectError("access_token", "access token: paste the API token from Freshchat")
    return CheckedInput(domain, email, public_key, request.access_token.strip())


def test_connection(
    request: ConnectRequest, api_base: str | None = None, timeout: float = 10.0, session=None,
    throttle=None,
) -> VerifiedConnection:
    """Validate the input, then ask Freshchat; raise ConnectError on the first failure."""
    checked = check_input(request)
    base = api_base_for(checked.domain, api_base)
    with FreshchatClient(base, checked.token, session=session, timeout=timeout,
                         throttle=throttle) as client:
        _check_credentials(client, checked.domain)
        agent = _find_agent(client, checked.domain, checked.email)
    return VerifiedConnection(
        domain=checked.domain,
        access_token=checked.token,
        auto_handle_all=request.auto_handle_all,
        webhook_public_key=checked.public_key,
        agent_id=str(agent["id"]),
        agent_email=str(agent.get("email") or checked.email),
        agent_name=agent_display_name(agent),
        agent_avatar_url=(agent.get("avatar") or {}).get("url") or None,
    )


def recheck(client: FreshchatClient, request: ConnectRequest, saved_agent: dict | None) -> None:
    """Test & Save's verdict on a saved connection, on the caller's client (whose token and
    domain are the saved ones); nothing is saved. `saved_agent` is the saved agent as
    GET /agents/{id} just returned it: when it is active under the saved email, the walk over
    every /agents page could only find an active agent again, so it is skipped."""
    checked = check_input(request)
    _check_credentials(client, checked.domain)
    if not _active_with_email(saved_agent, checked.email):
        _find_agent(client, checked.domain, checked.email)  # says what is wrong, as Test & Save


def _active_with_email(agent: dict | None, email: str) -> bool:
    return agent is not None and has_email(agent, email) and is_active(agent)


def agent_display_name(agent: dict) -> str:
    name = " ".join(p for p in (agent.get("first_name"), agent.get("last_name")) if p)
    return name.strip() or str(agent.get("email") or agent.get("id"))


def _check_credentials(client: FreshchatClient, domain: str) -> None:
    try:
        client.get_configuration()
    except errors.FreshchatError as exc:
        raise ConnectError("access_token" if _is_auth(exc) else "domain",
                           _explain(exc, domain)) from exc


def _find_agent(client: FreshchatClient, domain: str, email: str) -> dict:
    try:
        agent = client.find_agent_by_email(email)
    except errors.FreshchatError as exc:
        raise ConnectError("default_agent_email", _explain(exc, domain)) from exc
    if agent is None:
        raise ConnectError(
            "default_agent_email",
            f"no Freshchat agent has the email {email}: check Admin Settings → Team, "
            "or type the email of the agent the AI should answer as",
        )
    if agent.get("is_deleted"):
        raise ConnectError("default_agent_email",
                           f"the agent {email} was deleted in Freshchat: choose another agent")
    if agent.get("is_deactivated"):
        raise ConnectError(
            "default_agent_email",
            f"the agent {email} is deactivated in Freshchat: reactivate it in Admin Settings → "
            "Team, or choose another agent",
        )
    return agent


def _is_auth(exc: errors.FreshchatError) -> bool:
    return isinstance(exc, errors.Unauthorized | errors.Forbidden)


def _explain(exc: errors.FreshchatError, domain: str) -> str:
    if isinstance(exc, errors.Unauthorized):
        return TOKEN_REJECTED
    if isinstance(exc, errors.Forbidden):
        return TOKEN_FORBIDDEN
    if isinstance(exc, errors.Unreachable):
        return f"could not reach https://{domain} ({exc.message}): check the domain and network"
    if isinstance(exc, errors.NotFound):
        return f"https://{domain} answered 404: is this your Freshchat domain?"
    if isinstance(exc, errors.RateLimited):
        return "Freshchat is rate-limiting this account right now: try again in a minute"
    return f"Freshchat answered with an error: {exc.message}"
