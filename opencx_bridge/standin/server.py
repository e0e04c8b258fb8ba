"""The stand-in's HTTP side: Freshchat's REST API v2 as a Flask app, served on a local port.

Every request passes the same gate, in Freshchat's order of concerns: latency,
authentication, injected faults, rate limit, injected delay, then the route. The
routes follow FRESHCHAT.md (not our client), so a client bug shows up here.
"""

from __future__ import annotations

import math
import threading
import time
from functools import partial
from typing import Any

from flask import Flask, Response, g, jsonify, request
from werkzeug.exceptions import HTTPException

from opencx_bridge.standin.faults import Fault
from opencx_bridge.standin.local_server import LocalServer
from opencx_bridge.standin.state import CONVERSATION_STATUSES
from opencx_bridge.standin.webhooks import WebhookState

__all__ = ["ApiError", "Standin", "create_app"]


STATUS_NAMES = {
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "CONFLICT",
    415: "UNSUPPORTED_MEDIA_TYPE",
    429: "TOO_MANY_REQUESTS",
    500: "INTERNAL_SERVER_ERROR",
    502: "BAD_GATEWAY",
    503: "SERVICE_UNAVAILABLE",
    504: "GATEWAY_TIMEOUT",
}


class ApiError(Exception):
    """Raised by routes; rendered as Freshchat's error body."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def error_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> Response:
    """Freshchat's error body: {"code": 404, "status": "AGENT_NOT_FOUND", "message": ...}."""
    response = jsonify({"code": status, "status": code, "message": message})
    response.status_code = status
    response.headers.update(headers or {})
    return response


def _fault_response(fault: Fault) -> Response:
    headers = {} if fault.retry_after is None else {"Retry-After": str(fault.retry_after)}
    if fault.body is None:
        name = STATUS_NAMES.get(fault.status, "ERROR")
        return error_response(fault.status, name, f"injected {fault.status}", headers)
    if isinstance(fault.body, dict):
        response = jsonify(fault.body)
    else:
        response = Response(fault.body, content_type="text/html; charset=utf-8")
    response.status_code = fault.status
    response.headers.update(headers)
    return response


def _bearer() -> str | None:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip() or None


def _gate(st: Standin) -> Response | None:
    """Run before every route; a returned response short-circuits it."""
    g.delay = None
    g.echo = []
    if request.blueprint in st.open_blueprints:  # pages for people (the sandbox), not the API
        return None
    st.sleep(st.latency)
    denied = st.check_token(_bearer(), request.method)
    if denied:
        return error_response(*denied)
    fault = st.take_fault(request.method, request.path)
    if fault:
        return _fault_response(fault)
    retry_after = st.take_rate_slot()
    if retry_after is not None:
        headers = {"Retry-After": str(retry_after)}
        return error_response(429, "TOO_MANY_REQUESTS", "rate limit exceeded", headers)
    delay = st.take_delay(request.method, request.path)
    if delay and not delay.then_apply:
        st.sleep(delay.seconds)
        return error_response(503, "SERVICE_UNAVAILABLE", "request dropped after a delay")
    g.delay = delay.seconds if delay else None
    return None


def _finish(st: Standin, response: Response) -> Response:
    """Run after every request: rate headers, call log, echo webhooks, injected delay."""
    if request.blueprint in st.open_blueprints:
        return response
    response.headers.update(st.rate_headers())
    st.record_call(
        {
            "method": request.method,
            "path": request.path,
            "query": request.args.to_dict(flat=True),
            "json": request.get_json(silent=True),
            "status": response.status_code,
            "at": time.time(),
            "token": _bearer(),
            "headers": dict(request.headers),
        }
    )
    echoes = st.echoes_for(g.get("echo") or []) if response.status_code < 300 else []
    if echoes:  # in the order of the calls, sent once the client has its answer
        response.call_on_close(st.queue_echoes(echoes).set)
    if g.get("delay"):
        st.sleep(g.delay)
    return response


def _api_error(exc: ApiError) -> Response:
    return error_response(exc.status, exc.code, exc.message)


def _http_error(exc: HTTPException) -> Any:
    status = exc.code or 500
    if status < 400:  # routing redirects (e.g. a trailing slash) keep their Location
        return exc.get_response()
    return error_response(status, STATUS_NAMES.get(status, "ERROR"), exc.description or "")


def _int_arg(name: str, default: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise ApiError(400, "INVALID_PARAMETER", f"{name} must be a positive integer")
    return value


def _paging(default: int, maximum: int) -> tuple[int, int]:
    """page (1-based) and items_per_page, capped the way Freshchat caps it."""
    return _int_arg("page", 1), min(_int_arg("items_per_page", default), maximum)


def _json_object() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError(400, "INVALID_REQUEST", "body must be a JSON object (application/json)")
    return body


def _found(value: dict[str, Any] | None, code: str, what: str) -> dict[str, Any]:
    if value is None:
        raise ApiError(404, code, f"{what} not found")
    return value


def create_app(st: Standin) -> Flask:
    """The Flask app for one stand-in account."""
    app = Flask(__name__)
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.before_request(partial(_gate, st))
    app.after_request(partial(_finish, st))
    app.register_error_handler(ApiError, _api_error)
    app.register_error_handler(HTTPException, _http_error)
    _add_read_routes(app, st)
    _add_write_routes(app, st)
    return app


def _add_read_routes(app: Flask, st: Standin) -> None:
    @app.get("/v2/accounts/configuration")
    def configuration() -> Any:
        return st.configuration()

    @app.get("/v2/agents")
    def list_agents() -> Any:
        return _agents_page(st.agents())

    @app.get("/v2/agents/<agent_id>")
    def get_agent(agent_id: str) -> Any:
        return _found(st.agent(agent_id), "AGENT_NOT_FOUND", "agent")

    @app.get("/v2/users/<user_id>")
    def get_user(user_id: str) -> Any:
        return _found(st.user(user_id), "USER_NOT_FOUND", "user")

    @app.get("/v2/conversations/<cid>")
    def get_conversation(cid: str) -> Any:
        return _found(st.conversation(cid), "CONVERSATION_NOT_FOUND", "conversation")

    @app.get("/v2/conversations/<cid>/messages")
    def list_messages(cid: str) -> Any:
        _found(st.conversation(cid), "CONVERSATION_NOT_FOUND", "conversation")
        return _messages_page(cid, st.messages(cid))


def _agents_page(agents: list[dict[str, Any]]) -> dict[str, Any]:
    """GET /v2/agents: default 10 per page, at most 100; links.next_page only if more."""
    page, per_page = _paging(default=10, maximum=100)
    total_pages = math.ceil(len(agents) / per_page)
    body: dict[str, Any] = {
        "agents": agents[(page - 1) * per_page : page * per_page],
        "pagination": {
            "current_page": page,
            "items_per_page": per_page,
            "total_items": len(agents),
            "total_pages": total_pages,
        },
        "links": {},
    }
    if page < total_pages:
        href = f"/v2/agents?page={page + 1}&items_per_page={per_page}"
        body["links"]["next_page"] = {"href": href}
    return body


def _messages_page(cid: str, oldest_first: list[dict[str, Any]]) -> dict[str, Any]:
    """GET messages: newest first; ``link`` to the next page only if there is one."""
    page, per_page = _paging(default=20, maximum=100)
    newest_first = oldest_first[::-1]
    body: dict[str, Any] = {"messages": newest_first[(page - 1) * per_page : page * per_page]}
    if page * per_page < len(newest_first):
        href = f"/v2/conversations/{cid}/messages?page={page + 1}&items_per_page={per_page}"
        body["link"] = {"href": href}
    return body


def _add_write_routes(app: Flask, st: Standin) -> None:
    @app.put("/v2/conversations/<cid>")
    def update_conversation(cid: str) -> Any:
        _found(st.conversation(cid), "CONVERSATION_NOT_FOUND", "conversation")
        changes = _conversation_changes(st, _json_object())
        before, after = st.update_conversation(cid, changes)
        g.echo = st.events_for_update(before, after, st.api_actor)
        return after

    @app.post("/v2/conversations/<cid>/messages")
    def post_message(cid: str) -> Any:
        _found(st.conversation(cid), "CONVERSATION_NOT_FOUND", "conversation")
        fields = _message_fields(st, _json_object())
        message = st.add_message(cid, **fields)
        g.echo = [st.message_event(message)]
        return message, 201


def _conversation_changes(st: Standin, body: dict[str, Any]) -> dict[str, Any]:
    """Validate a PUT body; only the fields Freshchat lets us change are kept."""
    changes: dict[str, Any] = {}
    if "status" in body:
        if body["status"] not in CONVERSATION_STATUSES:
            allowed = ", ".join(sorted(CONVERSATION_STATUSES))
            raise ApiError(400, "INVALID_STATUS", f"status must be one of {allowed}")
        changes["status"] = body["status"]
    if "assigned_agent_id" in body:
        agent_id = body["assigned_agent_id"]
        if not isinstance(agent_id, str) or (agent_id and not st.is_usable_agent(agent_id)):
            raise ApiError(400, "AGENT_NOT_FOUND", "assigned_agent_id is not an agent")
        changes["assigned_agent_id"] = agent_id
    if "assigned_group_id" in body:
        if not isinstance(body["assigned_group_id"], str):
            raise ApiError(400, "INVALID_REQUEST", "assigned_group_id must be a string")
        changes["assigned_group_id"] = body["assigned_group_id"] or None
    if "properties" in body:
        changes["properties"] = body["properties"]
    if not changes:
        raise ApiError(400, "INVALID_REQUEST", "nothing to update")
    return changes


def _message_fields(st: Standin, body: dict[str, Any]) -> dict[str, Any]:
    """Validate a POST messages body into add_message() arguments."""
    message_type = body.get("message_type", "normal")
    if message_type not in ("normal", "private"):
        raise ApiError(400, "INVALID_MESSAGE_TYPE", "message_type must be normal or private")
    actor_type, actor_id = body.get("actor_type"), body.get("actor_id")
    if actor_type == "agent":
        if not st.is_usable_agent(actor_id):
            raise ApiError(400, "AGENT_NOT_FOUND", "actor_id is not an agent")
    elif actor_type == "user":
        if not isinstance(actor_id, str) or st.user(actor_id) is None:
            raise ApiError(400, "USER_NOT_FOUND", "actor_id is not a user")
    else:
        raise ApiError(400, "INVALID_ACTOR_TYPE", "actor_type must be agent or user")
    parts = body.get("message_parts")
    if not isinstance(parts, list) or not all(isinstance(p, dict) for p in parts):
        raise ApiError(400, "INVALID_MESSAGE_PARTS", "message_parts must be a list of objects")
    texts = [p["text"].get("content") for p in parts if isinstance(p.get("text"), dict)]
    if not any(isinstance(t, str) and t.strip() for t in texts):
        raise ApiError(400, "INVALID_MESSAGE_PARTS", "message_parts needs a text part")
    return {
        "actor_type": actor_type,
        "actor_id": actor_id,
        "message_type": message_type,
        "parts": parts,
    }


class Standin(WebhookState):
    """A local Freshchat account on 127.0.0.1: REST API, webhooks, faults, people."""

    def __init__(
        self,
        token: str = "test-token",
        domain: str = "acme.freshchat.com",
        rate_limit_per_minute: int | None = None,
    ):
        super().__init__(token, domain, rate_limit_per_minute)
        self.admin: dict[str, Any] | None = None  # seeded agents, set by the pytest fixture
        self.ai_agent: dict[str, Any] | None = None
        self.open_blueprints: set[str] = set()  # blueprints served without token, gate or log
        self.app = create_app(self)
        self._http = LocalServer(self.app, "standin-http")
        self._stopping = threading.Event()
        self._cut_short = threading.Event()  # set for an instant by end_delays()

    @property
    def url(self) -> str:
        """http://127.0.0.1:PORT (only once started)."""
        return self._http.url

    @property
    def base_url(self) -> str:
        """What the bridge uses as its Freshchat API base URL."""
        return self.url + "/v2"

    def start(self, port: int = 0, host: str = "127.0.0.1") -> Standin:
        """Serve (on a free port unless given) in a daemon thread; slow requests do not block."""
        if self._http.running:
            return self
        _ = self.private_key  # make the signing key now, not inside the first webhook
        self._stopping.clear()
        self._http.start(port, host)
        self.start_echo_worker()
        return self

    def stop(self) -> None:
        """Stop serving, wake delayed requests, and close the listening socket."""
        self._stopping.set()
        self._http.stop()
        self.stop_echo_worker()

    def sleep(self, seconds: float) -> None:
        """Injected latency; cut short by stop() so tests never wait on a dead server, and by
        end_delays()."""
        deadline = time.monotonic() + (seconds or 0)
        while not self._stopping.is_set() and (left := deadline - time.monotonic()) > 0:
            if self._cut_short.wait(min(left, 0.05)):
                return

    def end_delays(self) -> None:
        """Answer every request that is waiting out an injected delay now (held requests
        let a test see what arrives at once, then let it all go)."""
        self.clear_faults()
        self._cut_short.set()
        time.sleep(0.1)  # every sleeper polls within 0.05 s
        self._cut_short.clear()

    def __enter__(self) -> Standin:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
