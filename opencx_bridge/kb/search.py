"""Search the knowledge base: `search(query, limit) -> list[Match]`, best first.

Retrieval uses the SQLite FTS5 index when the database has one (score = -bm25(), higher is
better) and otherwise ranks every article with the pure-Python BM25 in scoring.py, so the
bridge also runs on databases without FTS5 (PostgreSQL). Either way the candidates are then
re-ranked by the confidence calibrated in scoring.py, which is computed identically on both
paths from a per-database cache of the tokenised articles (rebuilt when the articles change).

Must be called inside an app context.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy import text as sql

from opencx_bridge.extensions import db
from opencx_bridge.kb import scoring, text
from opencx_bridge.store.models import Article

CANDIDATES = 50  # retrieved by BM25 before the confidence re-ranking
FTS_WEIGHTS = ", ".join(str(scoring.FIELD_WEIGHTS[f])
                        for f in ("question", "answer", "topic", "tags"))
FTS_QUERY = sql(
    f"SELECT rowid, -bm25(article_fts, {FTS_WEIGHTS}) AS score FROM article_fts "
    f"WHERE article_fts MATCH :query ORDER BY bm25(article_fts, {FTS_WEIGHTS}) LIMIT :limit"
)

_corpora: dict[str, tuple[tuple, scoring.Corpus]] = {}


@dataclass(frozen=True)
class Match:
    article_id: int
    question: str
    answer: str
    topic: str | None
    score: float  # retrieval score, higher is better; comparable within one search only
    confidence: float  # 0..1, see scoring.py


def search(query: str, limit: int = 5) -> list[Match]:
    terms = text.query_terms(query)
    if not terms or limit <= 0:
        return []
    corpus = current_corpus()
    if corpus.size == 0:
        return []
    if fts_available():
        scores = _fts_scores(text.fts_match_query(query) or "")
    else:
        scores = _top(scoring.bm25(corpus, terms))
    ranked = scoring.rank(corpus, terms, scores)[:limit]
    rows = db.session.scalars(select(Article).where(Article.id.in_([r.id for r in ranked])))
    articles = {row.id: row for row in rows}
    return [Match(r.id, articles[r.id].question, articles[r.id].answer, articles[r.id].topic,
                  round(r.score, 4), r.confidence)
            for r in ranked if r.id in articles]


def fts_available() -> bool:
    """True when the database has the FTS5 index the migration creates on SQLite."""
    if db.engine.dialect.name != "sqlite":
        return False
    found = db.session.execute(sql(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'article_fts'"))
    return found.first() is not None


def current_corpus() -> scoring.Corpus:
    """The tokenised articles, cached per database until an article changes."""
    signature = tuple(db.session.execute(select(
        func.count(Article.id), func.max(Article.id), func.max(Article.updated_at),
        func.sum(Article.id))).one())
    key = db.engine.url.render_as_string(hide_password=True)
    cached = _corpora.get(key)
    if cached is not None and cached[0] == signature:
        return cached[1]
    rows = db.session.execute(select(Article.id, Article.question, Article.answer,
                                     Article.topic, Article.tags))
    corpus = scoring.build_corpus(scoring.make_doc(*row) for row in rows)
    _corpora[key] = (signature, corpus)
    return corpus


def _fts_scores(match_query: str) -> dict[int, float]:
    if not match_query:
        return {}
    rows = db.session.execute(FTS_QUERY, {"query": match_query, "limit": CANDIDATES})
    return {rowid: score for rowid, score in rows}


def _top(scores: dict[int, float]) -> dict[int, float]:
    best = sorted(scores.items(), key=lambda item: (-item[1], item[0]))[:CANDIDATES]
    return dict(best)
