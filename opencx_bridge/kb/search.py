"""Search the knowledge base: `search(query, limit) -> list[Match]`, best first.

The ranking and its confidence are kb/ranking.py's, the same on every database, with the
match by meaning of kb/semantic.py when embeddings_model is set. The index
is built from the articles' phrasings once per database and kept until an article changes
(count, largest id, last update and the sum of ids tell; each process keeps its own).

Must be called inside an app context.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from sqlalchemy import func, select

from opencx_bridge.extensions import db
from opencx_bridge.kb import ranking, semantic
from opencx_bridge.store.models import Article

_indexes: dict[str, tuple[tuple, ranking.Index | None]] = {}
_building = threading.Lock()  # one build at a time: threads asking meanwhile wait for it


@dataclass(frozen=True)
class Match:
    article_id: int
    question: str
    answer: str
    topic: str | None
    score: float  # 0..1, see ranking.py
    confidence: float  # 0..1, see ranking.py
    phrasing: str = ""  # the article's phrasing closest to the query


def search(query: str, limit: int = 5, by_meaning: bool = True) -> list[Match]:
    """`by_meaning` False: words only, with no call to an embeddings server (for pages that
    search many texts at once)."""
    if limit <= 0 or not query.strip():
        return []
    index = current_index()
    meaning = semantic.article_scores(index, query) if by_meaning else None
    ranked = ranking.rank(index, query, limit, meaning)
    if not ranked:
        return []
    rows = db.session.scalars(select(Article).where(Article.id.in_([r.id for r in ranked])))
    found = {row.id: row for row in rows}
    return [Match(r.id, found[r.id].question, found[r.id].answer, found[r.id].topic,
                  r.score, r.confidence, r.phrasing)
            for r in ranked if r.id in found]


def current_index() -> ranking.Index | None:
    """The ranking index of the articles, cached per database until an article changes."""
    signature = tuple(db.session.execute(select(
        func.count(Article.id), func.max(Article.id), func.max(Article.updated_at),
        func.sum(Article.id))).one())
    key = db.engine.url.render_as_string(hide_password=True)
    with _building:
        cached = _indexes.get(key)
        if cached is not None and cached[0] == signature:
            return cached[1]
        rows = db.session.execute(select(Article.id, Article.question, Article.phrasings,
                                         Article.tags))
        index = ranking.build(ranking.Entry(id_, _lines(question, phrasings, tags))
                              for id_, question, phrasings, tags in rows)
        _indexes[key] = (signature, index)
        return index


def _lines(question: str, phrasings: str, tags: str) -> tuple[str, ...]:
    tag_line = " ".join((tags or "").split(","))
    return (question, *(phrasings or "").split("\n"), tag_line)
