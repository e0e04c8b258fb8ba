"""Sentiment of customer messages, from VADER (a maintained, validated lexicon for short
social-media style text) rather than a home-made word list.

Used twice: the handoff/resolution notes show the conversation's sentiment, and the
frustration rule hands a conversation to humans before an angry customer gets yet another
bot answer.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

POSITIVE_AT = 0.05  # VADER's documented thresholds on the compound score
NEGATIVE_AT = -0.05
RECENCY_DECAY = 0.7  # each older message counts 0.7x the next newer one

_analyzer: SentimentIntensityAnalyzer | None = None
_lock = threading.Lock()
_CAPS_WORD = re.compile(r"\b[A-Z]{2,}\b")


@dataclass(frozen=True)
class Sentiment:
    label: str  # positive | neutral | negative
    score: float  # -1..1, VADER compound


NEUTRAL = Sentiment(label="neutral", score=0.0)


def _vader() -> SentimentIntensityAnalyzer:
    """One analyser per process, built on first use: building it reads the lexicon files,
    which importing this module should not do. `polarity_scores` only reads the lexicon,
    so sharing the instance between threads is safe."""
    global _analyzer
    if _analyzer is None:
        with _lock:
            if _analyzer is None:
                _analyzer = SentimentIntensityAnalyzer()
    return _analyzer


def _label(score: float) -> str:
    if score >= POSITIVE_AT:
        return "positive"
    if score <= NEGATIVE_AT:
        return "negative"
    return "neutral"


def _score(text: str) -> float:
    return float(_vader().polarity_scores(text)["compound"]) if text.strip() else 0.0


def analyse(text: str) -> Sentiment:
    """The sentiment of one message; empty text is neutral."""
    score = _score(text)
    return Sentiment(label=_label(score), score=score)


def overall(texts: Sequence[str]) -> Sentiment:
    """The conversation's sentiment from the customer's messages (oldest first): a mean
    weighted towards the latest, because how the customer feels now matters more than how
    they opened ("this is broken!" ... "thanks, that fixed it" is a happy customer).
    Empty messages (attachments) are skipped."""
    scores = [_score(text) for text in texts if text.strip()]
    if not scores:
        return NEUTRAL
    score = round(_recency_mean(scores), 4)
    return Sentiment(label=_label(score), score=score)


def _recency_mean(scores: Sequence[float]) -> float:
    weights = [RECENCY_DECAY ** age for age in range(len(scores) - 1, -1, -1)]
    return sum(w * s for w, s in zip(weights, scores, strict=True)) / sum(weights)


def is_shouted(text: str) -> bool:
    """Two or more all-caps words, or a run of exclamation marks (`!!`, `?!`)."""
    return len(_CAPS_WORD.findall(text)) >= 2 or bool(re.search(r"[!?]!|!{2,}", text))


def is_frustrated(texts: Sequence[str], threshold: float = -0.5, window: int = 3) -> bool:
    """Strongly negative across the last customer messages (oldest first). Either:

    * sustained: the recency-weighted mean (as in `overall`) of the last `window` non-empty
      messages is <= `threshold`; with fewer messages, of those there are, so one
      strongly negative first message is enough; or
    * an outburst: the last message alone scores <= `threshold` and is shouted (caps,
      `!!`), even after calm messages.

    A single mildly negative remark ("my order is late") is neither: VADER scores it near
    0, and the point is to catch anger, not every complaint about a late parcel. One calm
    but scathing message after calm ones is not enough either; a second one is.
    """
    scores = [_score(text) for text in texts if text.strip()]
    if not scores or window < 1:
        return False
    if _recency_mean(scores[-window:]) <= threshold:
        return True
    last = next(text for text in reversed(texts) if text.strip())
    return scores[-1] <= threshold and is_shouted(last)
