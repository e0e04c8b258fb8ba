"""The ranking over phrasings and its fitted confidence (kb/ranking.py), without a database."""

import math

import pytest

from opencx_bridge.kb import ranking
from opencx_bridge.kb.ranking import Entry

ARTICLES = [
    Entry(1, ("How long does shipping take?", "When will my order arrive?",
              "Where is my parcel?")),
    Entry(2, ("How do I return an item?", "Can I get my money back?",
              "What is your refund policy?")),
    Entry(3, ("How do I reset my password?", "I forgot my password")),
    Entry(4, ("What are your opening hours?",)),
]


@pytest.fixture(scope="module")
def index():
    return ranking.build(ARTICLES)


def test_an_article_is_found_by_its_closest_phrasing(index):
    best = ranking.rank(index, "when does my order arrive", 4)[0]
    assert best.id == 1 and best.phrasing == "When will my order arrive?"
    refund = ranking.rank(index, "I want my money back", 1)[0]
    assert refund.id == 2 and refund.phrasing == "Can I get my money back?"


def test_results_are_best_first_limited_and_rated_against_the_best(index):
    ranked = ranking.rank(index, "I forgot my password, how do I reset it", 3)
    assert [r.id for r in ranked][:1] == [3] and len(ranked) <= 3
    assert all(a.score >= b.score for a, b in zip(ranked, ranked[1:], strict=False))
    assert ranked[0].confidence > 0.9
    assert all(r.confidence < 0.2 for r in ranked[1:])


def test_the_same_question_asked_word_for_word_is_sure(index):
    assert ranking.rank(index, "What are your opening hours?", 1)[0].confidence > 0.9


@pytest.mark.parametrize("question", ["", "   ", "?!.", "🙂", "\x00"])
def test_nothing_to_compare_gives_no_result(index, question):
    assert ranking.rank(index, question, 5) == []


def test_no_index_or_no_room_gives_no_result(index):
    assert ranking.rank(None, "shipping", 5) == []
    assert ranking.rank(index, "shipping", 0) == []


def test_an_unrelated_question_is_not_confident(index):
    ranked = ranking.rank(index, "my kubernetes cluster returns error 502", 1)
    assert ranked == [] or ranked[0].confidence < 0.3


def test_a_pasted_email_is_cut_not_refused(index):
    ranked = ranking.rank(index, "where is my parcel " * 2000, 1)
    assert ranked[0].id == 1


def test_building_needs_at_least_one_phrasing():
    assert ranking.build([]) is None
    assert ranking.build([Entry(1, ("", "  "))]) is None
    only_stop_words = ranking.build([Entry(1, ("Who are you?",)), Entry(2, ("",))])
    assert only_stop_words.ids == (1,)  # the character n-grams still rank it
    assert ranking.rank(only_stop_words, "who are you", 1)[0].id == 1


def test_repeated_phrasings_count_once():
    index = ranking.build([Entry(1, ("Shipping times", "shipping times ", "Shipping times"))])
    assert index.phrasings == ("Shipping times", "shipping times")


def test_the_confidence_is_the_fitted_logistic_curve():
    def expected(score, rival):
        z = ranking.INTERCEPT + ranking.SCORE_WEIGHT * score + ranking.LEAD_WEIGHT * (
            score - rival)
        return round(1 / (1 + math.exp(-z)), 3)

    assert ranking.confidence(0.6, 0.2) == expected(0.6, 0.2)
    assert ranking.confidence(0.0, 0.0) == pytest.approx(0.041, abs=0.001)
    # more alike, or further ahead of the runner-up: surer
    assert ranking.confidence(0.7, 0.3) > ranking.confidence(0.5, 0.3)
    assert ranking.confidence(0.6, 0.1) > ranking.confidence(0.6, 0.5)
