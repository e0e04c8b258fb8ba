"""Which article answers a question, and how sure we are: pure functions, no Flask, no
database.

An article is known by its phrasings: its question, the other ways customers ask it, and
its tags as one more line (the answer's words do not count: an answer mentions much that it
is not about). Each phrasing becomes a TF-IDF vector of word 1-2-grams (English stop-words
left out) and character 2-5-grams inside words (so "refund" meets "refunds" and typos),
each part L2-normalised, stacked and normalised again; the IDF is learnt from the
phrasings themselves. An article's score for a question is

    score = 1/2 · best cosine with one of its phrasings + 1/2 · cosine with their centroid

(the best phrasing rewards a close paraphrase, the centroid an article asked in many ways).
The confidence is the chance that the best article is the right one, from a logistic model
of its score s1 and its lead over the runner-up s2:

    confidence = 1 / (1 + exp(-(INTERCEPT + SCORE_WEIGHT·s1 + LEAD_WEIGHT·(s1 - s2))))

The three constants were fitted (logistic regression, 2026-12-04) on held-out real customer
questions from public intent data sets (HINT3 v2 sofmattress, curekart, powerplay11 and
HWU64), with simulated FAQs of 1, 3, 5 and 10 phrasings per intent and a fifth of the
intents left out (their questions, and the data sets' own out-of-scope ones, should be
handed off); `bench/kb_fit_confidence.py` does the fit. Fitted leaving one data set out, the
weights came out within 3.1-5.6 (score), 3.2-3.9 (lead) and -3.8 to -2.7 (intercept), and
on the data set left out the share of right answers rose with the confidence (a few points
of noise aside). Any other article is rated the same way against the best one (its lead is
negative).

A knowledge base of a handful of articles has no close runner-up for most questions, so
there the lead, and with it the confidence, comes out higher than on the data it was
fitted on: run `flask kb eval` on your own questions before trusting a threshold.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

INTERCEPT, SCORE_WEIGHT, LEAD_WEIGHT = -3.142, 3.984, 3.647
BEST_SHARE = 0.5  # of the score that comes from the best phrasing; the rest, the centroid
MAX_QUESTION_CHARS = 2000  # a pasted e-mail is cut here before it is vectorised


@dataclass(frozen=True)
class Entry:
    """One article as the ranking sees it."""

    id: int
    phrasings: tuple[str, ...]  # the question first


@dataclass(frozen=True)
class Ranked:
    id: int
    score: float  # 0..1, see above
    confidence: float  # 0..1
    phrasing: str  # the article's phrasing closest to the question


@dataclass(frozen=True)
class Index:
    ids: tuple[int, ...]  # article of each row of `centroids`
    owners: object  # numpy array: the row in `ids` of each phrasing
    phrasings: tuple[str, ...]
    vectors: object  # sparse matrix, one normalised row per phrasing
    centroids: object  # sparse matrix, one normalised row per article
    vectorisers: tuple  # the fitted word and character TfidfVectorizers

    @property
    def size(self) -> int:
        return len(self.ids)


def confidence(score: float, rival: float) -> float:
    value = INTERCEPT + SCORE_WEIGHT * score + LEAD_WEIGHT * (score - rival)
    return round(1 / (1 + math.exp(-value)), 3)


def build(entries: Iterable[Entry]) -> Index | None:
    """The index of the articles; None when there is nothing to rank against."""
    import numpy as np  # imported here, not at the top: scikit-learn takes a second to load
    from scipy import sparse

    ids: list[int] = []
    owners: list[int] = []
    texts: list[str] = []
    for entry in entries:
        lines = [line for line in dict.fromkeys(p.strip() for p in entry.phrasings) if line]
        if not lines:
            continue
        ids.append(entry.id)
        owners += [len(ids) - 1] * len(lines)
        texts += lines
    if not texts:
        return None
    fitted = []
    for vectoriser in _vectorisers():
        try:
            fitted.append((vectoriser, vectoriser.fit_transform(texts)))
        except ValueError:  # nothing to learn: e.g. every phrasing is stop-words only
            continue
    if not fitted:
        return None
    vectors = _stacked([part for _, part in fitted])
    owner_rows = np.asarray(owners)
    membership = sparse.csr_matrix(
        (np.ones(len(owners)), (owner_rows, np.arange(len(owners)))),
        shape=(len(ids), len(owners)))
    return Index(tuple(ids), owner_rows, tuple(texts), vectors,
                 _normalised(membership @ vectors), tuple(v for v, _ in fitted))


def rank(index: Index | None, question: str, limit: int, by_meaning=None) -> list[Ranked]:
    """The `limit` best articles for `question`, best first; only articles that share
    something with it. `by_meaning` (per article, 0..1: kb/semantic.py) raises an article's
    score to it where it is higher."""
    import numpy as np

    question = " ".join(question.split())[:MAX_QUESTION_CHARS]
    if index is None or limit <= 0 or not question:
        return []
    query = _stacked([vectoriser.transform([question]) for vectoriser in index.vectorisers])
    if query.nnz == 0 and by_meaning is None:
        return []
    by_phrasing = (query @ index.vectors.T).toarray().ravel()
    best = np.zeros(index.size)
    np.maximum.at(best, index.owners, by_phrasing)
    scores = BEST_SHARE * best + (1 - BEST_SHARE) * (query @ index.centroids.T).toarray().ravel()
    if by_meaning is not None:
        scores = np.maximum(scores, by_meaning)
    order = [int(row) for row in np.argsort(-scores, kind="stable") if scores[row] > 0]
    if not order:
        return []
    top = float(scores[order[0]])
    runner_up = float(scores[order[1]]) if len(order) > 1 else 0.0
    return [Ranked(index.ids[row], round(float(scores[row]), 4),
                   confidence(float(scores[row]), runner_up if row == order[0] else top),
                   _closest(index, by_phrasing, row))
            for row in order[:limit]]


def _closest(index: Index, by_phrasing: Sequence[float], row: int) -> str:
    import numpy as np

    mine = np.flatnonzero(index.owners == row)
    return index.phrasings[int(mine[np.argmax(np.asarray(by_phrasing)[mine])])]


def _vectorisers() -> list:
    from sklearn.feature_extraction.text import TfidfVectorizer

    return [TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True,
                            token_pattern=r"(?u)\b\w+\b", stop_words="english",
                            strip_accents="unicode"),
            TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True,
                            strip_accents="unicode")]


def _stacked(parts: list):
    """Each part's rows are unit length already (TfidfVectorizer's l2); the stack is too."""
    from scipy import sparse

    return _normalised(sparse.hstack(parts).tocsr())


def _normalised(matrix):
    """Rows scaled to unit length (rows of zeros stay zero)."""
    import numpy as np
    from scipy import sparse

    lengths = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    lengths[lengths == 0] = 1.0
    return sparse.diags(1.0 / lengths) @ matrix
