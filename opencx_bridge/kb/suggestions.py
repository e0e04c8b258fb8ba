"""The knowledge-gap loop: a question the AI handed off, paired with the first reply a human
gave to it in Freshchat, is offered to an admin as a new article or as another phrasing of an
existing one. Nothing is added without an admin's click.

`remember_gap` and `pair` run inside the worker's transaction (engine/writes.py); the
decisions (`add_as_article`, `add_as_phrasing`, `dismiss`) commit on their own.
"""

from __future__ import annotations

from sqlalchemy import func, select, update

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
    _claim(suggestion, "added", who)
    article = articles.create(question, answer, topic, "")
    suggestion.article_id = article.id
    return article


@commits
def add_as_phrasing(suggestion: Suggestion, article: Article, question: str, who: str) -> None:
    """The customer's question (as edited) becomes another phrasing of `article`."""
    question = " ".join((question or "").split())
    if not question:
        raise SuggestionError("the question is empty: write how the customer asked")
    _claim(suggestion, "phrasing", who)
    articles.update(article, article.question, article.answer, article.topic, article.tags,
                    [*articles.phrasings_of(article)[1:], question])
    suggestion.article_id = article.id


@commits
def dismiss(suggestion: Suggestion, who: str) -> None:
    _claim(suggestion, "dismissed", who)


def _claim(suggestion: Suggestion, status: str, who: str) -> None:
    """Decide it, unless someone else did first (one UPDATE: two admins cannot both)."""
    claimed = db.session.execute(
        update(Suggestion).where(Suggestion.id == suggestion.id, Suggestion.status == OPEN)
        .values(status=status, decided_by=who, decided_at=utcnow())
        .execution_options(synchronize_session=False)).rowcount
    db.session.refresh(suggestion)
    if claimed != 1:
        raise SuggestionError(f"this suggestion was already decided ({suggestion.status} by "
                              f"{suggestion.decided_by or 'someone'})")
