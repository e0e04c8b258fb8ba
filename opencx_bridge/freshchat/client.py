"""Freshchat REST API v2 client: one method per call the bridge makes (see FRESHCHAT.md).

All HTTP goes through ``FreshchatClient._request`` so that auth headers, the timeout,
the observer and the translation into ``opencx_bridge.freshchat.errors`` live in one
place. The session is injectable so tests and the outbox can share or fake transport.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import requests

from opencx_bridge.freshchat import errors

__all__ = ["MAX_AGENT_PAGES", "CallRecord", "FreshchatClient", "api_base_for"]

log = logging.getLogger(__name__)

MAX_AGENT_PAGES = 1000
"""Hard stop for ``iter_agents`` so a server that never stops paginating cannot hang us."""

_STATUS_ERRORS: dict[int, type[errors.FreshchatError]] = {
    401: errors.Unauthorized,
    403: errors.Forbidden,
    404: errors.NotFound,
    429: errors.RateLimited,
}


@dataclass(frozen=True)
class CallRecord:
    """What one API call did, for logs, diagnostics and rate-limit accounting."""

    method: str
    path: str
    status: int | None
    latency_ms: float
    error: str | None  # "ClassName: message" of the raised FreshchatError, None on success
    rate_limit_remaining: int | None
    rate_limit_total: int | None
    retry_after: float | None = None  # seconds, from a 429's Retry-After


def api_base_for(domain: str, override: str | None = None) -> str:
    """Base URL for an account: the configured override wins (tests, proxies)."""
    if override:
        return override.strip().rstrip("/")
    host = domain.strip()
    for scheme in ("https://", "http://"):  # admins paste URLs into the domain field
        if host.lower().startswith(scheme):
            host = host[len(scheme) :]
    return f"https://{host.strip('/')}/v2"


def _quote(value: object) -> str:
    """IDs go into paths; quote everything so an odd ID cannot change the route."""
    return quote(str(value), safe="")


def _header_int(response: requests.Response | None, name: str) -> int | None:
    if response is None:
        return None
    try:
        return int(response.headers[name].strip())
    except (KeyError, ValueError):
        return None


def has_email(agent: dict[str, Any], email: str) -> bool:
    """Agent emails compare without case or surrounding spaces."""
    found = agent.get("email")
    return isinstance(found, str) and found.strip().casefold() == email.strip().casefold()


def is_active(agent: dict[str, Any]) -> bool:
    return not agent.get("is_deleted") and not agent.get("is_deactivated")


class FreshchatClient:
    """Talks to one Freshchat account with one API token."""

    def __init__(
        self,
        base_url: str,
        token: str,
        session: requests.Session | None = None,
        timeout: float = 10.0,
        observer: Callable[[CallRecord], None] | None = None,
        throttle: Callable[[], None] | None = None,
    ):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.observer = observer
        self.throttle = throttle  # called before every call: the shared rate budget
        self._token = token
        self._owns_session = session is None
        self._session = session if session is not None else requests.Session()

    # -- lifecycle ---------------------------------------------------------------------

    def close(self) -> None:
        """Close the session only if we created it; an injected one belongs to the caller."""
        if self._owns_session:
            self._session.close()

    def __enter__(self) -> FreshchatClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- the calls in FRESHCHAT.md ------------------------------------------------------

    def get_configuration(self) -> dict[str, Any]:
        """Cheapest authenticated call: used to verify credentials (carries organisation_id)."""
        return self._request("GET", "/accounts/configuration")

    def list_agents(self, page: int = 1, items_per_page: int = 100) -> dict[str, Any]:
        """One page of agents, as Freshchat returns it (agents, pagination, links)."""
        params = {"page": page, "items_per_page": items_per_page}
        return self._request("GET", "/agents", params=params)

    def iter_agents(self, items_per_page: int = 100) -> Iterator[dict[str, Any]]:
        """Every agent across pages; there is no server-side filter, so we walk them all."""
        previous_ids: list[object] | None = None
        for page in range(1, MAX_AGENT_PAGES + 1):
            body = self.list_agents(page=page, items_per_page=items_per_page)
            agents = body.get("agents")
            if not isinstance(agents, list):
                raise errors.BadResponse("agents list missing from GET /agents", status=200)
            ids = [a.get("id") for a in agents if isinstance(a, dict)]
            if not agents or ids == previous_ids:  # empty page, or server ignores ?page=
                return
            previous_ids = ids
            yield from (a for a in agents if isinstance(a, dict))
            if not has_next_page(body, page, items_per_page):
                return
        log.warning("iter_agents stopped at the %d page cap", MAX_AGENT_PAGES)

    def find_agent_by_email(self, email: str) -> dict[str, Any] | None:
        """The agent with this email (case-insensitive), preferring an active one."""
        if not email.strip():
            return None
        fallback: dict[str, Any] | None = None
        for agent in self.iter_agents():
            if not has_email(agent, email):
                continue
            if is_active(agent):
                return agent
            fallback = fallback or agent  # a deactivated match still explains the failure
        return fallback

    def get_agent(self, agent_id: str) -> dict[str, Any]:
        """One agent by ID (email, names, avatar, is_deactivated, ...)."""
        return self._request("GET", f"/agents/{_quote(agent_id)}")

    def get_user(self, user_id: str) -> dict[str, Any]:
        """One customer by ID; email may be absent."""
        return self._request("GET", f"/users/{_quote(user_id)}")

    def get_conversation(self, conversation_id: str) -> dict[str, Any]:
        """One conversation by its UUID conversation_id."""
        return self._request("GET", f"/conversations/{_quote(conversation_id)}")

    def update_conversation(self, conversation_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """PUT a partial conversation (status, assigned_agent_id, ...)."""
        return self._request("PUT", f"/conversations/{_quote(conversation_id)}", json=body)

    def assign_conversation(self, conversation_id: str, agent_id: str) -> dict[str, Any]:
        """Hand the conversation to one agent."""
        body = {"status": "assigned", "assigned_agent_id": agent_id}
        return self.update_conversation(conversation_id, body)

    def unassign_conversation(self, conversation_id: str) -> dict[str, Any]:
        """Put the conversation back in the queue (status new, no agent)."""
        return self.update_conversation(conversation_id, {"status": "new", "assigned_agent_id": ""})

    def resolve_conversation(self, conversation_id: str) -> dict[str, Any]:
        """Mark the conversation resolved."""
        return self.update_conversation(conversation_id, {"status": "resolved"})

    def post_message(
        self, conversation_id: str, text: str, actor_id: str, message_type: str = "normal"
    ) -> dict[str, Any]:
        """Send text as an agent; message_type "private" is an internal note."""
        if message_type not in ("normal", "private"):
            raise ValueError(f"message_type must be 'normal' or 'private', not {message_type!r}")
        body = {
            "message_type": message_type,
            "actor_type": "agent",
            "actor_id": actor_id,
            "message_parts": [{"text": {"content": text}}],
        }
        path = f"/conversations/{_quote(conversation_id)}/messages"
        return self._request("POST", path, json=body)

    def list_messages(
        self, conversation_id: str, page: int = 1, items_per_page: int = 50
    ) -> dict[str, Any]:
        """One page of a conversation's messages (used to reconcile after a timeout)."""
        params = {"page": page, "items_per_page": items_per_page}
        path = f"/conversations/{_quote(conversation_id)}/messages"
        return self._request("GET", path, params=params)

    # -- the one HTTP boundary ----------------------------------------------------------

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Send one call; return the JSON object or raise a FreshchatError subclass."""
        if self.throttle is not None:
            self.throttle()
        headers = {"Authorization": f"Bearer {self._token}", "Accept": "application/json"}
        if json is not None:
            headers["Content-Type"] = "application/json"
        started = time.perf_counter()
        response: requests.Response | None = None
        try:
            try:
                response = self._session.request(
                    method,
                    self.base_url + path,
                    params=params,
                    json=json,
                    headers=headers,
                    timeout=self.timeout,
                )
            except requests.RequestException as exc:
                raise _transport_error(exc) from exc
            result = _parse_response(response)
        except errors.FreshchatError as exc:
            self._observe(method, path, response, started, f"{type(exc).__name__}: {exc.message}")
            raise
        self._observe(method, path, response, started, None)
        return result

    def _observe(
        self,
        method: str,
        path: str,
        response: requests.Response | None,
        started: float,
        error: str | None,
    ) -> None:
        if self.observer is None:
            return
        record = CallRecord(
            method=method,
            path=path,
            status=response.status_code if response is not None else None,
            latency_ms=(time.perf_counter() - started) * 1000.0,
            error=error,
            rate_limit_remaining=_header_int(response, "X-RateLimit-Remaining"),
            rate_limit_total=_header_int(response, "X-RateLimit-Total"),
            retry_after=(errors.parse_retry_after(response.headers.get("Retry-After"))
                         if response is not None and response.status_code == 429 else None),
        )
        try:
            self.observer(record)
        except Exception:  # a broken logger must not turn a good call into a failure
            log.exception("Freshchat call observer failed")


def _transport_error(exc: requests.RequestException) -> errors.FreshchatError:
    """No HTTP answer: map the requests exception onto our tree."""
    if isinstance(exc, requests.Timeout):  # before ConnectionError: ConnectTimeout is both
        return errors.Timeout(f"no answer from Freshchat in time: {exc}")
    if isinstance(exc, requests.ConnectionError | requests.exceptions.ChunkedEncodingError):
        return errors.Unreachable(f"cannot reach Freshchat: {exc}")
    return errors.FreshchatError(f"request to Freshchat failed: {exc}")


def _parse_response(response: requests.Response) -> dict[str, Any]:
    """2xx → the JSON object; anything else → the matching FreshchatError."""
    status = response.status_code
    if not 200 <= status < 300:
        raise _status_error(response)
    if not response.content.strip():
        return {}  # 202/204 without a body: accepted, nothing to read
    try:
        body = response.json()
    except ValueError:
        excerpt = _snippet(response)
        raise errors.BadResponse(f"expected JSON, got {excerpt!r}", status=status) from None
    if not isinstance(body, dict):
        kind = type(body).__name__
        raise errors.BadResponse(f"expected a JSON object, got {kind}", status=status)
    return body


def _status_error(response: requests.Response) -> errors.FreshchatError:
    """The error for a non-2xx answer, chosen by status code."""
    status = response.status_code
    message, code = _error_details(response)
    if status == 429:
        retry_after = errors.parse_retry_after(response.headers.get("Retry-After"))
        return errors.RateLimited(message, status=status, code=code, retry_after=retry_after)
    if status in _STATUS_ERRORS:
        return _STATUS_ERRORS[status](message, status=status, code=code)
    if status >= 500:
        return errors.ServerError(message, status=status, code=code)
    if status >= 400:
        return errors.ClientError(message, status=status, code=code)
    return errors.BadResponse(f"unexpected HTTP {status}: {message}", status=status, code=code)


def _error_details(response: requests.Response) -> tuple[str, str | None]:
    """Message and symbolic code from Freshchat's error body, or a short text fallback."""
    try:
        body = response.json()
    except ValueError:
        body = None
    code: str | None = None
    message: str | None = None
    if isinstance(body, dict):
        if isinstance(body.get("status"), str):
            code = body["status"]
        if isinstance(body.get("message"), str) and body["message"].strip():
            message = body["message"].strip()
    if message is None:
        message = code or _snippet(response) or response.reason or f"HTTP {response.status_code}"
    return message, code


def _snippet(response: requests.Response, limit: int = 200) -> str:
    """A short, single-line excerpt of a body that is not JSON (proxy pages, HTML)."""
    text = " ".join(response.text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _whole(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def has_next_page(body: dict[str, Any], page: int, asked_per_page: int) -> bool:
    """More pages after `page`? Accounts answer with pagination.total_pages, a
    links.next_page, or only pagination.total_items: any of them says so."""
    pagination = body.get("pagination") if isinstance(body.get("pagination"), dict) else {}
    total_pages = _whole(pagination.get("total_pages"))
    if total_pages is not None and page < total_pages:
        return True
    links = body.get("links")
    next_page = links.get("next_page") if isinstance(links, dict) else None
    if isinstance(next_page, dict) and next_page.get("href"):
        return True
    total_items = _whole(pagination.get("total_items"))
    per_page = _whole(pagination.get("items_per_page")) or asked_per_page
    return total_pages is None and total_items is not None and page * per_page < total_items
