"""Ranking and confidence, as pure functions over pre-tokenised articles.

Ranking (the portable fallback for FTS5): Okapi BM25 (k1 1.2, b 0.75) over field-weighted
term frequencies (question x3, topic x2, tags x2, answer x1), with the same light stemmer
as the queries (text.py).

Confidence (0..1) answers "is this article really about what was asked?". Only the query's
content terms count (text.query_terms: lower-cased, stop-words removed, plurals and -ing/-ed
folded). For each candidate article:

1. coverage: the IDF-weighted share of those terms the article covers. A term found in the
   question (title) or the tags earns full credit; one found only in the topic or the answer
   earns half (ANSWER_CREDIT). The weight of a term is BM25's IDF over the knowledge base,
   ln(1 + (N - df + 0.5) / (df + 0.5)); a term no article contains weighs UNKNOWN_FACTOR
   (1.25) x a term found in one article, so words the knowledge base has never seen pull
   the coverage down ("my API webhook returns error 502 on kubernetes" shares only
   "return" with the returns article: ~0.14). Generic support words (text.GENERIC_WORDS:
   help, question, order, issue, take...) weigh a quarter (GENERIC_FACTOR).
2. separation: x (0.7 + 0.3 x margin), margin = (c - c2) / c where c is the article's
   coverage and c2 the best coverage among the other candidates (0 when it is alone). A
   clear winner keeps its coverage; two articles that cover the question equally lose
   30 % (MARGIN_SHARE). Coverage rather than the raw BM25 lead is used because BM25 is
   swayed by repeated generic words: for "how long does it take to get a refund" the
   shipping article has the higher BM25 (long, take) but the returns article covers it.
3. guard: an article that covers none of the query's specific (non-generic) terms is
   capped at GENERIC_ONLY_CAP (0.3): "my order", "help", "question" alone never reach 0.5.

Candidates are then ordered by confidence (ties: higher BM25). In practice, at the
default threshold of 0.5: the title or tags must carry most of the distinctive words of
the question. "How long does shipping to Canada take" against "How long does shipping
take?" (answer mentions Canada) gives 0.8; a query naming only words of one article's
title gives 1.0; half the distinctive words unknown to the knowledge base ("how much does
shipping cost" with no word on cost) stays below 0.5. Long messages with many words the
knowledge base does not know score low and hand off: the calibration prefers a human to
a wrong answer. tests/test_kb_responder.py pins these figures in a table.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from opencx_bridge.kb import text

K1, B = 1.2, 0.75
FIELD_WEIGHTS = {"question": 3.0, "answer": 1.0, "topic": 2.0, "tags": 2.0}
GENERIC_FACTOR = 0.25
ANSWER_CREDIT = 0.5
MARGIN_SHARE = 0.3
GENERIC_ONLY_CAP = 0.3
UNKNOWN_FACTOR = 1.25


@dataclass(frozen=True)
class Doc:
    id: int
    title_terms: frozenset[str]  # question and tags: full credit
    other_terms: frozenset[str]  # topic and answer: half credit
    tf: dict[str, float]  # field-weighted term frequencies
    length: float


@dataclass(frozen=True)
class Corpus:
    docs: dict[int, Doc]
    df: dict[str, int]
    avg_length: float

    @property
    def size(self) -> int:
        return len(self.docs)


@dataclass(frozen=True)
class Ranked:
    id: int
    score: float
    confidence: float


def make_doc(article_id: int, question: str, answer: str, topic: str | None,
             tags: str) -> Doc:
    fields = {"question": text.terms(question), "answer": text.terms(answer),
              "topic": text.terms(topic or ""), "tags": text.terms(tags or "")}
    tf: Counter[str] = Counter()
    for name, found in fields.items():
        for term in found:
            tf[term] += FIELD_WEIGHTS[name]
    title = frozenset(fields["question"]) | frozenset(fields["tags"])
    other = (frozenset(fields["answer"]) | frozenset(fields["topic"])) - title
    return Doc(article_id, title, other, dict(tf), float(sum(tf.values())))


def build_corpus(docs: Iterable[Doc]) -> Corpus:
    by_id = {doc.id: doc for doc in docs}
    df: Counter[str] = Counter()
    for doc in by_id.values():
        df.update(doc.tf.keys())
    total = sum(doc.length for doc in by_id.values())
    return Corpus(by_id, dict(df), total / len(by_id) if by_id else 0.0)


def idf(corpus: Corpus, term: str) -> float:
    """BM25's IDF; a term no article contains weighs UNKNOWN_FACTOR x a one-article term."""
    n, found = corpus.size, corpus.df.get(term, 0)
    weight = math.log(1 + (n - max(found, 1) + 0.5) / (max(found, 1) + 0.5))
    return weight * UNKNOWN_FACTOR if found == 0 else weight


def bm25(corpus: Corpus, terms: Sequence[str]) -> dict[int, float]:
    """Scores of the articles that contain at least one of `terms` (higher is better)."""
    scores: dict[int, float] = {}
    avg = corpus.avg_length or 1.0
    for doc in corpus.docs.values():
        score = 0.0
        for term in terms:
            freq = doc.tf.get(term, 0.0)
            if freq:
                norm = freq + K1 * (1 - B + B * doc.length / avg)
                score += idf(corpus, term) * freq * (K1 + 1) / norm
        if score > 0:
            scores[doc.id] = score
    return scores


def coverage(corpus: Corpus, terms: Sequence[str], doc: Doc) -> tuple[float, bool]:
    """(weighted share of `terms` the article covers, whether a specific term is covered)."""
    total = covered = 0.0
    specific_hit = False
    for term in terms:
        generic = text.is_generic(term)
        weight = idf(corpus, term) * (GENERIC_FACTOR if generic else 1.0)
        credit = 1.0 if term in doc.title_terms else (
            ANSWER_CREDIT if term in doc.other_terms else 0.0)
        total += weight
        covered += weight * credit
        specific_hit = specific_hit or (credit > 0 and not generic)
    return (covered / total if total else 0.0), specific_hit


def margin(share: float, rival_share: float) -> float:
    """How far ahead of the runner-up an article's coverage is, 0..1."""
    if share <= 0:
        return 0.0
    return min(1.0, max(0.0, (share - rival_share) / share))


def confidence(share: float, specific_hit: bool, rival_share: float) -> float:
    value = share * (1 - MARGIN_SHARE + MARGIN_SHARE * margin(share, rival_share))
    if not specific_hit:
        value = min(value, GENERIC_ONLY_CAP)
    return round(min(1.0, max(0.0, value)), 3)


def rank(corpus: Corpus, terms: Sequence[str], scores: dict[int, float]) -> list[Ranked]:
    """Candidates (id → retrieval score) with their confidence, most confident first;
    ties go to the higher score. Ids missing from the corpus are skipped."""
    covered = {doc_id: coverage(corpus, terms, corpus.docs[doc_id])
               for doc_id in scores if doc_id in corpus.docs}
    shares = sorted((share for share, _ in covered.values()), reverse=True)
    ranked = [Ranked(doc_id, scores[doc_id], confidence(share, hit, _rival(share, shares)))
              for doc_id, (share, hit) in covered.items()]
    ranked.sort(key=lambda r: (-r.confidence, -r.score, r.id))
    return ranked


def _rival(share: float, shares: list[float]) -> float:
    """The best coverage among the other candidates (`shares` sorted, highest first)."""
    if len(shares) < 2:
        return 0.0
    return shares[1] if share >= shares[0] else shares[0]
