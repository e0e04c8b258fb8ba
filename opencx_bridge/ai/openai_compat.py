"""A responder for any server speaking OpenAI's ``POST /chat/completions`` (OpenAI, Azure
OpenAI deployment URLs with ``?api-version=``, Ollama, vLLM, llama.cpp), grounded in the
knowledge-base articles the caller's ``articles`` function returns. The model must reply
with one strict JSON object, validated here; every failure raises ``ResponderError("AI
unavailable: ...")``, never silence. All HTTP goes through ``_post``; the API key only ever
goes into a request header and is scrubbed from every message."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests

from opencx_bridge import http_sessions
from opencx_bridge.ai.responder import Answer, ResponderError, Turn

__all__ = ["GroundingArticle", "OpenAICompatibleResponder", "auth_headers", "completions_url",
           "endpoint_url", "error_detail", "is_azure_url", "origin"]

HISTORY_TURNS = 10
SUMMARY_TURNS = 40
ARTICLE_CHARS = 2000  # per article answer, so one long article cannot fill the context
SUMMARY_CHARS = 600
AZURE_HOST_SUFFIX = ".openai.azure.com"
_ROLES = {"customer": ("user", ""), "ai": ("assistant", ""),
          "agent": ("assistant", "(human agent) ")}
_LABELS = {"customer": "Customer", "ai": "AI assistant", "agent": "Human agent"}
_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL | re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")

SYSTEM_PROMPT = """You are a customer support assistant. Answer the customer's latest \
message using ONLY the help articles below; never invent facts, prices, dates or policies.
If the articles do not cover the question, or the customer asks for a person, do not guess: \
set "wants_human" to true and say briefly that a member of the team will take over.
Reply with one JSON object and nothing else, exactly in this form:
{"answer": "<reply to the customer>", "confidence": <number from 0 to 1>, \
"topic": "<topic of the article you used>" or null, "wants_human": <true or false>}
"confidence" is how sure you are that the answer is correct and fully supported by the \
articles. "topic" is copied exactly from the article you used, or null if you used none.

Help articles:
"""

SUMMARY_PROMPT = """Summarise this customer support conversation for the human agent who \
takes it over: what the customer wants and what they were already told. At most 3 \
sentences of plain text, no lists, no markdown, no preamble."""


@dataclass(frozen=True)
class GroundingArticle:
    """One knowledge-base article the model may answer from."""

    question: str
    answer: str
    topic: str | None = None


class _Failure(Exception):
    """Internal: what went wrong, before the public prefix and key scrubbing."""


def completions_url(base_url: str) -> str:
    """``{base_url}/chat/completions``, keeping a query such as Azure's ``?api-version=``.
    A URL that already ends in ``/chat/completions`` is used as it is."""
    return endpoint_url(base_url, "/chat/completions")


def endpoint_url(base_url: str, endpoint: str) -> str:
    """``{base_url}{endpoint}`` (e.g. "/embeddings"), keeping the query; a base URL that
    already ends in the endpoint is used as it is."""
    parts = urlsplit(base_url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"expected an http(s) URL like https://api.openai.com/v1: {base_url!r}")
    path = parts.path.rstrip("/")
    if not path.endswith(endpoint):
        path += endpoint
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))


def auth_headers(url: str, api_key: str | None) -> dict[str, str]:
    """Azure wants the key in ``api-key``; everyone else as a bearer token."""
    if not api_key:
        return {}
    return {"api-key": api_key} if is_azure_url(url) else {"Authorization": f"Bearer {api_key}"}


def is_azure_url(url: str) -> bool:
    """Azure OpenAI wants the key in an ``api-key`` header instead of a bearer token."""
    return (urlsplit(url).hostname or "").rstrip(".").endswith(AZURE_HOST_SUFFIX)


class OpenAICompatibleResponder:
    """The Responder for a model server; ``summarise`` offers the model's own summary."""

    def __init__(self, base_url: str, model: str, api_key: str | None = None,
                 temperature: float = 0.2, timeout: float = 20.0,
                 session: requests.Session | None = None,
                 articles: Callable[[str], Sequence[GroundingArticle]] | None = None,
                 max_articles: int = 4, reads_images: bool = False):
        if not model.strip() or not 0 <= temperature <= 2 or not timeout > 0 or max_articles < 0:
            raise ValueError("need a model, 0 <= temperature <= 2, timeout > 0, max_articles >= 0")
        self.url = completions_url(base_url)
        self.model = model.strip()
        self.reads_images = reads_images  # a vision model: images go with the question
        self.temperature = temperature
        self.timeout = timeout
        self.max_articles = max_articles
        self._api_key = api_key or None
        self._session = session  # None: the calling thread's (http_sessions)
        self._articles = articles
        self._json_mode = True  # off once the server rejects response_format

    def __repr__(self) -> str:
        key = "'***'" if self._api_key else "None"
        return (f"{type(self).__name__}(url={self.url!r}, model={self.model!r}, "
                f"api_key={key}, temperature={self.temperature!r}, timeout={self.timeout!r})")

    # -- the Responder interface ---------------------------------------------------------

    def respond(self, question: str, history: Sequence[Turn],
                images: Sequence[str] = ()) -> Answer:
        try:
            articles = self._grounding(question)
            messages = [{"role": "system", "content": system_prompt(articles)},
                        *history_messages(history),
                        {"role": "user", "content": user_content(question, images)}]
            return parse_answer(self._complete(messages, json_mode=True))
        except _Failure as exc:
            raise self._unavailable(str(exc)) from None

    def summarise(self, turns: Sequence[Turn]) -> str:
        """At most 3 sentences from the model; ResponderError if it cannot give them."""
        try:
            transcript = _transcript(turns)
            if not transcript:
                raise _Failure("nothing to summarise")
            messages = [{"role": "system", "content": SUMMARY_PROMPT},
                        {"role": "user", "content": transcript}]
            return _bounded_summary(self._complete(messages, json_mode=False))
        except _Failure as exc:
            raise self._unavailable(str(exc)) from None

    # -- the one HTTP boundary -----------------------------------------------------------

    def _grounding(self, question: str) -> list[GroundingArticle]:
        if self._articles is None or self.max_articles == 0:
            return []
        try:  # the KB is someone else's code: report its failure, do not crash
            return list(self._articles(question))[: self.max_articles]
        except Exception as exc:
            raise _Failure(f"cannot load knowledge-base articles: {type(exc).__name__}") from None

    def _complete(self, messages: list[dict[str, str]], *, json_mode: bool) -> str:
        """The reply text; retried once without response_format if the server rejects it."""
        payload: dict[str, Any] = {"model": self.model, "messages": messages,
                                   "temperature": self.temperature}
        if json_mode and self._json_mode:
            payload["response_format"] = {"type": "json_object"}
        response = self._post(payload)
        if "response_format" in payload and response.status_code == 400 \
                and "response_format" in response.text.lower():
            self._json_mode = False
            del payload["response_format"]
            response = self._post(payload)
        return _reply_content(response)

    def _post(self, payload: dict[str, Any]) -> requests.Response:
        headers = {"Accept": "application/json", **auth_headers(self.url, self._api_key)}
        session = self._session if self._session is not None else http_sessions.for_this_thread()
        try:
            # No redirects: requests would carry the api-key header to another host.
            return session.post(self.url, json=payload, headers=headers,
                                timeout=self.timeout, allow_redirects=False)
        except requests.Timeout:
            raise _Failure(f"the model server timed out after {self.timeout:g} s") from None
        except requests.ConnectionError:
            raise _Failure(f"cannot reach the model server at {origin(self.url)}") from None
        except requests.RequestException as exc:
            raise _Failure(f"request to the model server failed: {type(exc).__name__}") from None

    def _unavailable(self, detail: str) -> ResponderError:
        if self._api_key:
            detail = detail.replace(self._api_key, "***")
        return ResponderError(f"AI unavailable: {detail}")


def system_prompt(articles: Sequence[GroundingArticle]) -> str:
    """The grounding prompt: the JSON contract, then the numbered articles."""
    if not articles:
        return SYSTEM_PROMPT + "(no article matches this question)"
    blocks = []
    for number, article in enumerate(articles, start=1):
        answer = article.answer.strip()
        if len(answer) > ARTICLE_CHARS:
            answer = answer[: ARTICLE_CHARS - 1] + "…"
        blocks.append(f"Article {number} (topic: {article.topic or 'none'})\n"
                      f"Q: {article.question.strip()}\nA: {answer}")
    return SYSTEM_PROMPT + "\n\n".join(blocks)


def history_messages(history: Sequence[Turn]) -> list[dict[str, str]]:
    """The last turns as chat messages; a human agent's words are marked as such."""
    messages = []
    for turn in list(history)[-HISTORY_TURNS:]:
        role, prefix = _ROLES.get(turn.author, (None, ""))
        if role and turn.text.strip():
            messages.append({"role": role, "content": prefix + turn.text.strip()})
    return messages


def _transcript(turns: Sequence[Turn]) -> str:
    lines = [f"{_LABELS.get(t.author, t.author)}: {' '.join(t.text.split())}"
             for t in list(turns)[-SUMMARY_TURNS:] if t.text.strip()]
    return "\n".join(lines)


def user_content(question: str, images: Sequence[str]) -> str | list[dict[str, Any]]:
    """The question as text, or with images as the chat-completions API takes them."""
    if not images:
        return question
    text = question or "(The customer sent only the image(s) below, with no text.)"
    return [{"type": "text", "text": text},
            *({"type": "image_url", "image_url": {"url": url}} for url in images)]


def _reply_content(response: requests.Response) -> str:
    """``choices[0].message.content`` of a 2xx JSON body, or a _Failure saying why not."""
    status = response.status_code
    if not 200 <= status < 300:
        raise _Failure(f"the model server answered HTTP {status}{error_detail(response)}")
    try:
        body = response.json()
    except ValueError:
        raise _Failure(f"the model server sent a non-JSON body (HTTP {status}): "
                       f"{_snippet(response.text)!r}") from None
    try:
        content = body["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError):
        content = None
    if not isinstance(content, str):
        raise _Failure("the model server's reply has no choices[0].message.content text")
    return content


def error_detail(response: requests.Response) -> str:
    """': <server message>', except for 401/403 whose messages can quote part of the key."""
    if response.status_code in (401, 403):
        return " (the API key or its permissions were rejected)"
    try:
        error = response.json().get("error")
    except (ValueError, AttributeError):
        error = None
    message = error.get("message") if isinstance(error, dict) else error
    message = message if isinstance(message, str) and message.strip() else response.text
    return f": {_snippet(message)}" if message.strip() else ""


def parse_answer(content: str) -> Answer:
    """Validate the model's JSON object into an Answer, or raise a _Failure."""
    data = _json_object(content)
    answer, confidence = data.get("answer"), data.get("confidence")
    topic, wants_human = data.get("topic"), data.get("wants_human")
    problems = []
    if not isinstance(answer, str):
        problems.append("'answer' must be a string")
    if isinstance(confidence, bool) or not isinstance(confidence, int | float) \
            or not math.isfinite(confidence) or not 0 <= confidence <= 1:
        problems.append(f"'confidence' must be a number from 0 to 1, got {confidence!r}")
    if topic is not None and not isinstance(topic, str):
        problems.append("'topic' must be a string or null")
    if not isinstance(wants_human, bool):
        problems.append("'wants_human' must be true or false")
    if not problems and not answer.strip() and not wants_human:
        problems.append("'answer' is empty and 'wants_human' is false")
    if problems:
        raise _Failure("model returned invalid JSON: " + "; ".join(problems))
    return Answer(text=answer.strip(), confidence=float(confidence),
                  topic=(topic or "").strip() or None, wants_human=wants_human)


def _json_object(content: str) -> dict[str, Any]:
    """The one JSON object in the reply: bare, in a ```json fence, or inside prose."""
    decoder = json.JSONDecoder()
    # The reply itself, then each fenced block, then from each "{" on (prose around it).
    attempts = [(text.strip(), 0) for text in (content, *_FENCE.findall(content))]
    attempts += [(content, i) for i, char in enumerate(content) if char == "{"]
    for text, start in attempts:
        try:
            value = decoder.raw_decode(text, start)[0]
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    raise _Failure(f"model returned invalid JSON: no JSON object in {_snippet(content)!r}")


def _bounded_summary(text: str) -> str:
    """Plain text, at most 3 sentences and SUMMARY_CHARS characters."""
    text = " ".join(_FENCE.sub(lambda m: m.group(1), text).split()).strip("\"' ")
    if not text:
        raise _Failure("the model returned an empty summary")
    text = " ".join(_SENTENCE_END.split(text)[:3])
    return text if len(text) <= SUMMARY_CHARS else text[: SUMMARY_CHARS - 1].rstrip() + "…"


def _snippet(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}" + (f":{parts.port}" if parts.port else "")
