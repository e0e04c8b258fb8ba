"""The responder the settings ask for. Built per question (settings may change while the
bridge runs); the model responder is reused while its settings stay the same, so what it
learns about its server (e.g. no JSON mode) is not forgotten between messages."""

from __future__ import annotations

import functools

from opencx_bridge.ai.openai_compat import GroundingArticle, OpenAICompatibleResponder
from opencx_bridge.ai.responder import Answer, Responder, ResponderError
from opencx_bridge.kb.responder import KnowledgeBaseResponder
from opencx_bridge.kb.search import search
from opencx_bridge.store import settings
from opencx_bridge.store.secrets_box import SecretUnreadable


class Unavailable:
    """Stands in when the configured responder cannot be built: every question hands off
    with the reason, instead of failing in the worker."""

    def __init__(self, reason: str):
        self.reason = reason

    def respond(self, question, history) -> Answer:
        raise ResponderError(f"AI unavailable: {self.reason}")


def build() -> Responder:
    """Needs an app context (settings, knowledge base)."""
    if settings.get("responder") != "openai_compatible":
        return KnowledgeBaseResponder()
    base_url, model = settings.get("openai_base_url"), settings.get("openai_model")
    if not (base_url and model):
        return Unavailable("responder is openai_compatible but openai_base_url or "
                           "openai_model is empty (AI settings)")
    try:
        api_key = settings.get("openai_api_key") or None
        return _model_responder(base_url, model, api_key, settings.get("openai_temperature"),
                                settings.get("openai_reads_images"))
    except SecretUnreadable:
        return Unavailable("the saved openai_api_key cannot be decrypted (SECRET_KEY changed?): "
                           "enter it again in AI settings")
    except ValueError as exc:
        return Unavailable(f"the model settings are not usable: {exc}")


@functools.lru_cache(maxsize=4)
def _model_responder(base_url: str, model: str, api_key: str | None, temperature: float,
                     reads_images: bool) -> OpenAICompatibleResponder:
    return OpenAICompatibleResponder(base_url, model, api_key=api_key, temperature=temperature,
                                     articles=_articles, reads_images=reads_images)


def _articles(question: str) -> list[GroundingArticle]:
    return [GroundingArticle(m.question, m.answer, m.topic) for m in search(question, limit=4)]
