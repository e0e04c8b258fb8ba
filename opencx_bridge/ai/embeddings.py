"""Text embeddings from any server speaking OpenAI's ``POST /embeddings`` (OpenAI, Azure,
Ollama, vLLM, llama.cpp, LM Studio): texts in, one vector per text out, or an
EmbeddingsError saying in plain words what went wrong (the API key never in it).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import requests

from opencx_bridge import http_sessions
from opencx_bridge.ai.openai_compat import auth_headers, endpoint_url, error_detail, origin

BATCH = 64  # texts per request: servers cap the input list (OpenAI at 2048, some far lower)


class EmbeddingsError(Exception):
    """The server could not give the embeddings; the message says why."""


class EmbeddingsClient:
    def __init__(self, base_url: str, model: str, api_key: str | None = None,
                 timeout: float = 10.0, session: requests.Session | None = None) -> None:
        if not model.strip():
            raise ValueError("need an embeddings model name")
        self.url = endpoint_url(base_url, "/embeddings")
        self.model, self.timeout = model.strip(), timeout
        self._api_key, self._session = api_key, session

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        vectors: list[list[float]] = []
        for start in range(0, len(texts), BATCH):
            vectors += self._batch(list(texts[start:start + BATCH]))
        return vectors

    def _batch(self, texts: list[str]) -> list[list[float]]:
        headers = {"Accept": "application/json", **auth_headers(self.url, self._api_key)}
        session = self._session or http_sessions.for_this_thread()
        try:
            response = session.post(self.url, json={"model": self.model, "input": texts},
                                    headers=headers, timeout=self.timeout,
                                    allow_redirects=False)
        except requests.Timeout:
            raise self._error(f"the embeddings server timed out after {self.timeout:g} s") \
                from None
        except requests.ConnectionError:
            raise self._error(f"cannot reach the embeddings server at {origin(self.url)}") \
                from None
        except requests.RequestException as exc:
            raise self._error(f"request to the embeddings server failed: "
                              f"{type(exc).__name__}") from None
        if not 200 <= response.status_code < 300:
            raise self._error(f"the embeddings server answered HTTP {response.status_code}"
                              f"{error_detail(response)}")
        return _vectors(response, len(texts), self._error)

    def _error(self, detail: str) -> EmbeddingsError:
        if self._api_key:
            detail = detail.replace(self._api_key, "***")
        return EmbeddingsError(detail)


def _vectors(response: requests.Response, count: int, error) -> list[list[float]]:
    """``data[i].embedding`` in ``index`` order, each as long as the first."""
    try:
        rows = sorted(response.json()["data"], key=lambda row: row.get("index", 0))
        vectors = [[float(x) for x in row["embedding"]] for row in rows]
    except (ValueError, KeyError, TypeError, AttributeError):
        raise error("the embeddings server's reply has no data[].embedding lists of "
                    "numbers") from None
    if len(vectors) != count:
        raise error(f"the embeddings server sent {len(vectors)} vectors for {count} texts")
    if any(not v or len(v) != len(vectors[0]) for v in vectors):
        raise error("the embeddings server sent empty vectors or vectors of different lengths")
    if not all(math.isfinite(x) for v in vectors for x in v):
        raise error("the embeddings server sent numbers that are not finite")
    return vectors
