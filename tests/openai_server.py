"""A tiny OpenAI-compatible chat server on 127.0.0.1 for tests: scripted replies, recorded
requests.

    with OpenAIServer() as server:
        server.reply('{"answer": "Hi", ...}')       # one chat.completion with this content
        server.fail(500, {"error": {"message": "boom"}})
        server.reply("...", delay=1.0)               # answer after a pause
        ... OpenAICompatibleResponder(server.base_url, "m") ...
        server.requests[0]["json"]["messages"]

Replies are used in order, one per request; with none left the server answers 500.

`POST /embeddings` answers from `server.meanings` (word -> meaning number) with no script: a
text's vector counts its words per meaning, so "parcel" and "package" can mean the same while
sharing no letters; words without a meaning add a little to a dimension of their own.
`server.embeddings_fail(status, body)` makes the next embeddings request fail.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections import deque
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from werkzeug.wrappers import Request, Response

from opencx_bridge.standin.local_server import LocalServer

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Scripted:
    """One reply: a completion whose message content is `content`, or a raw `body`
    (dict → JSON, str → text) with `status`; after `delay` seconds."""

    content: str | None = None
    status: int = 200
    body: Any = None
    delay: float = 0.0


class OpenAIServer:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self._script: deque[Scripted] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._http = LocalServer(self._app, "openai-test-server")
        self.meanings: dict[str, int] = {}
        self.dimensions = 32  # change it to play a server whose model changed
        self._embeddings_failures: deque[Scripted] = deque()

    # -- scripting -------------------------------------------------------------------------

    def reply(self, content: str, delay: float = 0.0) -> None:
        self._push(Scripted(content=content, delay=delay))

    def reply_json(self, data: Any, delay: float = 0.0) -> None:
        self.reply(json.dumps(data), delay=delay)

    def fail(self, status: int, body: Any = None, delay: float = 0.0) -> None:
        """A raw body (dict → JSON, str → text): an error, or a 200 that is no completion."""
        self._push(Scripted(status=status, body=body, delay=delay))

    def embeddings_fail(self, status: int, body: Any = None) -> None:
        with self._lock:
            self._embeddings_failures.append(Scripted(status=status, body=body))

    def _push(self, scripted: Scripted) -> None:
        with self._lock:
            self._script.append(scripted)

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return self._http.url

    @property
    def base_url(self) -> str:
        return self.url + "/v1"

    def start(self) -> OpenAIServer:
        self._stopping.clear()
        self._http.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # wakes delayed replies
        self._http.stop()

    def __enter__(self) -> OpenAIServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def session_for(self, host: str) -> requests.Session:
        """A session that sends requests for https://`host`/... to this server instead, so
        code that decides by host name (Azure) runs unchanged against it. Close it."""
        session = requests.Session()
        session.mount(f"https://{host}/", _Reroute(self.url))
        return session

    # -- the WSGI app ----------------------------------------------------------------------

    def _app(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        with self._lock:
            self.requests.append({
                "method": request.method,
                "path": request.path,
                "query": request.args.to_dict(flat=True),
                "headers": dict(request.headers),
                "json": request.get_json(silent=True),
            })
            if request.path.endswith("/embeddings"):
                failure = (self._embeddings_failures.popleft() if self._embeddings_failures
                           else None)
                return self._embeddings(request, failure)(environ, start_response)
            scripted = self._script.popleft() if self._script else None
        return self._respond(request, scripted)(environ, start_response)

    def _embeddings(self, request: Request, failure: Scripted | None) -> Response:
        if failure is not None:
            return _json(failure.body if failure.body is not None else {}, failure.status)
        body = request.get_json(silent=True) or {}
        texts = body.get("input")
        texts = [texts] if isinstance(texts, str) else texts
        if not isinstance(texts, list) or not body.get("model"):
            return _json({"error": {"message": "need model and input"}}, 400)
        data = [{"object": "embedding", "index": i, "embedding": self._vector(str(text))}
                for i, text in enumerate(texts)]
        return _json({"object": "list", "data": data, "model": body["model"]}, 200)

    def _vector(self, text: str) -> list[float]:
        vector = [0.0] * self.dimensions
        half = self.dimensions // 2
        for word in re.findall(r"[a-z]+", text.lower()):
            if word in self.meanings:
                vector[self.meanings[word] % half] += 1.0
            else:
                vector[half + sum(map(ord, word)) % half] += 0.1
        return vector

    def _respond(self, request: Request, scripted: Scripted | None) -> Response:
        if request.method != "POST" or not request.path.endswith("/chat/completions"):
            return _json({"error": {"message": "not found"}}, 404)
        if scripted is None:
            return _json({"error": {"message": "no scripted reply left"}}, 500)
        if scripted.delay:
            self._stopping.wait(scripted.delay)
        if scripted.content is None:
            body = scripted.body
            if isinstance(body, str):
                return Response(body, status=scripted.status, content_type="text/plain")
            return _json(body if body is not None else {}, scripted.status)
        return _json(_completion(scripted.content, request.get_json(silent=True)), 200)


class _Reroute(HTTPAdapter):
    def __init__(self, target: str) -> None:
        super().__init__()
        self._target = target

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        parts = urlsplit(request.url)
        request.url = self._target + parts.path + (f"?{parts.query}" if parts.query else "")
        return super().send(request, **kwargs)


def _completion(content: str, request_json: Any) -> dict[str, Any]:
    model = request_json.get("model") if isinstance(request_json, dict) else None
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 0,
        "model": model or "test-model",
        "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": content}}],
        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
    }


def _json(body: Any, status: int) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json")
