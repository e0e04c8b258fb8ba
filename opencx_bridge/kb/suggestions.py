"""The knowledge-gap loop: a question the AI handed off, paired with the first reply a human
gave to it in Freshchat, is offered to an admin as a new article or as another phrasing of an
existing one. Nothing is added without an admin's click.

`remember_gap` and `pair` run inside the worker's transaction (engine/writes.py); the
decisions (`add_as_article`, `add_as_phrasing`, `dismiss`) commit on their own.
"""

from __future__ import annotations

from sqlalchemy import func, select

from opencx_bridge.extensions import db
from opencx_bridge.kb import articles
from opencx_bridge.kb.search import Match, search
from opencx_bridge.store.models import Article, ChatSession, Suggestion, utcnow
from opencx_bridge.store.writes import commits

# Handoffs that say the knowledge base had no good answer (engine/rules/reasons.py kinds).
GAP_KINDS = frozenset({"low_confidence", "topic", "repeated", "ai_chose"})
OPEN = "open"


class SuggestionError(ValueError):
    """A decision that cannot be taken: the message says why."""


def remember_gap(session: ChatSession, kind: str, question: str | None) -> None:
    """The AI handed `question` off: keep it until a human answers (only a knowledge gap)."""
    if kind in GAP_KINDS and question and question.strip():
        session.gap_question = question.strip()


def pair(session: ChatSession, reply: str | None, agent_name: str | None) -> Suggestion | None:
    """A human replied in a handed-off conversation: its gap question and this reply become
    a suggestion, once."""
    question, reply = session.gap_question, (reply or "").strip()
    if not question or not reply:
        return None
    session.gap_question = None
    suggestion = Suggestion(conversation_id=session.conversation_id, question=question,
                            answer=reply, agent_name=agent_name, status=OPEN)
    db.session.add(suggestion)
    return suggestion


def open_ones(limit: int = 200) -> list[Suggestion]:
    return list(db.session.scalars(select(Suggestion).where(Suggestion.status == OPEN)
                                   .order_by(Suggestion.id.desc()).limit(limit)))


def count_open() -> int:
    return db.session.scalar(select(func.count(Suggestion.id))
                             .where(Suggestion.status == OPEN)) or 0


def get(suggestion_id: int) -> Suggestion | None:
    return db.session.get(Suggestion, suggestion_id)


def closest_article(suggestion: Suggestion) -> Match | None:
    """The article the question is most like: the one proposed to take it as a phrasing."""
    found = search(suggestion.question, 1)
    return found[0] if found else None


@commits
def add_as_article(suggestion: Suggestion, question: str, answer: str, topic: str | None,
                   who: str) -> Article:
    """A new article from the suggestion (as edited by the admin); ArticleError saves nothing."""
    _still_open(suggestion)
    article = articles.create(question, answer, topic, "")
    _decided(suggestion, "added", who, article.id)
    return article


@commits
def add_as_phrasing(suggestion: Suggestion, article: Article, question: str, who: str) -> None:
    """The customer's question (as edited) becomes another phrasing of `article`."""
    _still_open(suggestion)
    question = " ".join((question or "").split())
    if not question:
        raise SuggestionError("the question is empty: write how the customer asked")
    articles.update(article, article.question, article.answer, article.topic, article.tags,
                    [*articles.phrasings_of(article)[1:], question])
    _decided(suggestion, "phrasing", who, article.id)


@commits
def dismiss(suggestion: Suggestion, who: str) -> None:
    _still_open(suggestion)
    _decided(suggestion, "dismissed", who, None)


def _still_open(suggestion: Suggestion) -> None:
    if suggestion.status != OPEN:
        raise SuggestionError(f"this suggestion was already decided ({suggestion.status} by "
                              f"{suggestion.decided_by or 'someone'})")


def _decided(suggestion: Suggestion, status: str, who: str, article_id: int | None) -> None:
    suggestion.status, suggestion.decided_by = status, who
    suggestion.decided_at, suggestion.article_id = utcnow(), article_id
    db.session.flush()
