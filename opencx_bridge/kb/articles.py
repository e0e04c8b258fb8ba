"""Reading and writing articles: the dashboard and the importer both go through here.

create/update/delete add to the session (the importer commits its whole import once);
save/remove are the dashboard's, committed one article at a time.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select

from opencx_bridge.extensions import db
from opencx_bridge.store.models import Article
from opencx_bridge.store.writes import commits

MAX_QUESTION = 500
MAX_TOPIC = 64
MAX_PHRASINGS = 200


class ArticleError(ValueError):
    """An article that cannot be stored as given: the message says why, `field` where."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


def normalise_topic(value: str | None) -> str | None:
    cleaned = " ".join((value or "").split()).lower()
    return cleaned or None


def normalise_tags(value: str | None) -> str:
    """"Shipping, canada ,,Delivery" → "shipping,canada,delivery" (lower-cased, deduplicated)."""
    tags = (" ".join(tag.split()).lower() for tag in (value or "").split(","))
    return ",".join(dict.fromkeys(tag for tag in tags if tag))


def normalise_phrasings(value: str | Iterable[str] | None, question: str) -> str:
    """One phrasing per line, single-spaced, each once, never the question itself; a string
    is split at its line breaks. ArticleError for one too long or too many."""
    lines = value.splitlines() if isinstance(value, str) else list(value or ())
    seen = {question.casefold()}
    kept: list[str] = []
    for line in lines:
        phrasing = " ".join(line.split())
        if not phrasing or phrasing.casefold() in seen:
            continue
        if len(phrasing) > MAX_QUESTION:
            raise ArticleError(f"a phrasing is longer than {MAX_QUESTION} characters "
                               f"(it starts “{phrasing[:40]}…”)", "phrasings")
        seen.add(phrasing.casefold())
        kept.append(phrasing)
    if len(kept) > MAX_PHRASINGS:
        raise ArticleError(f"{len(kept)} phrasings: at most {MAX_PHRASINGS} per article",
                           "phrasings")
    return "\n".join(kept)


def phrasings_of(article: Article) -> list[str]:
    """The article's question followed by its other phrasings."""
    return [article.question, *filter(None, (article.phrasings or "").split("\n"))]


def cleaned(question: str, answer: str, topic: str | None, tags: str | None,
            phrasings: str | Iterable[str] | None = None) -> dict:
    """The stored form of the fields, or ArticleError naming the first problem."""
    question = " ".join((question or "").split())
    answer = (answer or "").strip()
    if not question:
        raise ArticleError("empty question", "question")
    if not answer:
        raise ArticleError("empty answer", "answer")
    if len(question) > MAX_QUESTION:
        raise ArticleError(f"question longer than {MAX_QUESTION} characters", "question")
    topic = normalise_topic(topic)
    if topic and len(topic) > MAX_TOPIC:
        raise ArticleError(f"topic longer than {MAX_TOPIC} characters", "topic")
    return {"question": question, "answer": answer, "topic": topic,
            "tags": normalise_tags(tags), "phrasings": normalise_phrasings(phrasings, question)}


def listing(topic: str | None = None) -> list[Article]:
    query = select(Article).order_by(Article.topic.is_(None), Article.topic, Article.question)
    if topic:
        query = query.where(Article.topic == normalise_topic(topic))
    return list(db.session.scalars(query))


def count() -> int:
    return db.session.scalar(select(func.count(Article.id))) or 0


def get(article_id: int) -> Article | None:
    return db.session.get(Article, article_id)


def by_source_key(key: str) -> Article | None:
    return db.session.scalar(select(Article).where(Article.source_key == key))


def create(question: str, answer: str, topic: str | None = None, tags: str | None = "",
           source_key: str | None = None,
           phrasings: str | Iterable[str] | None = None) -> Article:
    article = Article(**cleaned(question, answer, topic, tags, phrasings),
                      source_key=source_key)
    db.session.add(article)
    db.session.flush()
    return article


def update(article: Article, question: str, answer: str, topic: str | None,
           tags: str | None, phrasings: str | Iterable[str] | None = None) -> bool:
    """Apply the fields; True when something changed (updated_at moves only then)."""
    changed = False
    for name, value in cleaned(question, answer, topic, tags, phrasings).items():
        if getattr(article, name) != value:
            setattr(article, name, value)
            changed = True
    if changed:
        db.session.flush()
    return changed


def delete(article: Article) -> None:
    db.session.delete(article)
    db.session.flush()


@commits
def save(article: Article | None, question: str, answer: str, topic: str | None,
         tags: str | None, phrasings: str | Iterable[str] | None = None) -> Article:
    """A new article (article None) or an edit, committed; ArticleError saves nothing."""
    if article is None:
        return create(question, answer, topic, tags, phrasings=phrasings)
    update(article, question, answer, topic, tags, phrasings)
    return article


@commits
def remove(article: Article) -> None:
    delete(article)
