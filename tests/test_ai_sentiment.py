"""Sentiment from VADER: labels, the conversation's overall mood, frustration."""

from __future__ import annotations

import pytest

from opencx_bridge.ai.sentiment import Sentiment, analyse, is_frustrated, is_shouted, overall

ANGRY = "This is ridiculous, I have waited two weeks for a refund!!!"
FURIOUS = "You are useless. This is the worst service I have ever had."
SHOUTING = "WHERE IS MY ORDER?! This is absolutely terrible!!"
CALM_BUT_SCATHING = "Terrible. Useless bot. Awful."
QUESTION = "How long does shipping to Canada take?"
LATE = "my order is late"
HAPPY = "thanks, that fixed it!"
GLAD = "Great, thank you so much for the quick help"


@pytest.mark.parametrize(("text", "label"), [
    (HAPPY, "positive"),
    (GLAD, "positive"),
    (QUESTION, "neutral"),
    (LATE, "neutral"),
    ("", "neutral"),
    ("   ", "neutral"),
    (ANGRY, "negative"),
    (FURIOUS, "negative"),
    ("I'm a bit disappointed the parcel hasn't arrived", "negative"),
])
def test_analyse_labels(text, label):
    result = analyse(text)
    assert result.label == label
    assert -1.0 <= result.score <= 1.0


def test_analyse_is_the_vader_compound_score():
    assert analyse(QUESTION) == Sentiment(label="neutral", score=0.0)
    assert analyse(FURIOUS).score == pytest.approx(-0.784, abs=0.01)


def test_sentiment_is_frozen():
    with pytest.raises(AttributeError):
        analyse(HAPPY).score = 0.0  # type: ignore[misc]


@pytest.mark.parametrize(("texts", "label"), [
    ([], "neutral"),
    (["", " "], "neutral"),
    ([QUESTION], "neutral"),
    ([QUESTION, ANGRY], "negative"),
    ([FURIOUS, GLAD], "positive"),          # how they feel now counts most
    ([HAPPY, FURIOUS], "negative"),
])
def test_overall_is_weighted_towards_the_latest(texts, label):
    assert overall(texts).label == label


def test_overall_weights():
    happy, furious = analyse(HAPPY).score, analyse(FURIOUS).score
    expected = (0.7 * furious + 1.0 * happy) / 1.7
    assert overall([FURIOUS, HAPPY]).score == pytest.approx(expected, abs=1e-3)
    assert overall([FURIOUS, HAPPY]).label == "neutral"  # -0.78 then +0.49: mixed
    assert overall([FURIOUS]).score == pytest.approx(furious, abs=1e-3)


@pytest.mark.parametrize(("texts", "expected"), [
    ([ANGRY], True),                                       # one strongly negative message
    ([FURIOUS, "I am so angry, nobody answers and my money is gone"], True),
    ([QUESTION, ANGRY, FURIOUS], True),                    # sustained over the window
    ([QUESTION, QUESTION, SHOUTING], True),                # outburst: shouted, <= -0.5
    ([QUESTION, "WHERE IS MY MONEY?! This is a scam, I hate you!!"], True),
    ([QUESTION, QUESTION, CALM_BUT_SCATHING, CALM_BUT_SCATHING], True),
    ([QUESTION], False),
    (["where is my order?"], False),
    ([LATE], False),                                       # mildly negative, not angry
    ([QUESTION, LATE, "I'm a bit disappointed the parcel hasn't arrived"], False),
    ([FURIOUS, FURIOUS, HAPPY, QUESTION, QUESTION], False),  # anger long past
    ([QUESTION, QUESTION, CALM_BUT_SCATHING], False),      # very negative but not shouted
    ([], False),
    (["", ""], False),
])
def test_is_frustrated(texts, expected):
    assert is_frustrated(texts) is expected


def test_is_frustrated_window_and_threshold():
    texts = [QUESTION, FURIOUS, CALM_BUT_SCATHING]   # weighted mean about -0.63
    assert is_frustrated(texts, window=3) is True
    assert is_frustrated(texts, threshold=-0.7) is False
    assert is_frustrated(texts, window=1) is True     # -0.84 alone
    assert is_frustrated([FURIOUS, FURIOUS, QUESTION]) is False  # calmed down
    assert is_frustrated([FURIOUS, FURIOUS, QUESTION], window=0) is False


@pytest.mark.parametrize(("text", "expected"), [
    ("WHERE IS MY ORDER", True),
    ("this is terrible!!", True),
    ("seriously?!", True),
    ("I ordered from the EU", False),
    ("Thanks!", False),
])
def test_is_shouted(text, expected):
    assert is_shouted(text) is expected
