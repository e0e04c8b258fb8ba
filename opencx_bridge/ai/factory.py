"""The responder the settings ask for, built fresh for each question (settings may change
while the bridge runs)."""

from __future__ import annotations

from .. import settings
from ..kb.responder import KnowledgeBaseResponder
from ..kb.search import search
from .responder import Responder


def build() -> Responder:
    """Needs an app context (settings, knowledge base)."""
    if settings.get("responder") == "openai_compatible":
        base_url, model = settings.get("openai_base_url"), settings.get("openai_model")
        if base_url and model:
            from .openai_compat import GroundingArticle, OpenAICompatibleResponder

            def articles(question: str):
                return [GroundingArticle(m.question, m.answer, m.topic)
                        for m in search(question, limit=4)]

            return OpenAICompatibleResponder(
                base_url, model, api_key=settings.get("openai_api_key") or None,
                temperature=float(settings.get("openai_temperature")), articles=articles)
    return KnowledgeBaseResponder()
