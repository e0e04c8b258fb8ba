"""The embedded responder and its confidence calibration (documented in kb/scoring.py),
against the 4-article FAQ a new user imports."""

from pathlib import Path

import pytest

from opencx_bridge.ai.responder import Answer, Responder, Turn
from opencx_bridge.extensions import db
from opencx_bridge.kb import importer, scoring
from opencx_bridge.kb.responder import (
    GREETING_REPLY,
    NO_ANSWER,
    THANKS_REPLY,
    KnowledgeBaseResponder,
    smalltalk,
)
from opencx_bridge.kb.search import Match

FAQ = Path(__file__).parent / "fixtures" / "kb" / "faq.csv"
SHIPPING = "How long does shipping take?"
RETURNS = "How do I return an item and get a refund?"
PASSWORD = "How do I reset my password?"
HOURS = "What are your opening hours?"
THRESHOLD = 0.5

# (customer question, article it must be answered with or None for "hand off", min, max)
CALIBRATION = [
    ("how long does shipping to canada take", SHIPPING, 0.75, 0.85),
    ("hi, how long does shipping take?", SHIPPING, 0.95, 1.0),
    ("Do you ship internationally?", SHIPPING, 0.7, 0.8),
    ("shipping", SHIPPING, 1.0, 1.0),
    ("How do I get a refund?", RETURNS, 0.95, 1.0),
    ("can I return my order", RETURNS, 0.85, 0.95),
    ("how long does it take to get a refund", RETURNS, 0.55, 0.65),
    ("I forgot my password", PASSWORD, 0.7, 0.8),
    ("reset password", PASSWORD, 1.0, 1.0),
    ("when are you open?", HOURS, 1.0, 1.0),
    ("what are your opening hours", HOURS, 0.9, 1.0),
    # generic words only: below the guard cap whatever they share with an article
    ("I have a question about my order, can you help?", None, 0.0, 0.3),
    ("where is my order", None, 0.0, 0.3),
    ("I need help", None, 0.0, 0.0),
    # unknown subjects
    ("my API webhook returns error 502 on kubernetes", None, 0.1, 0.2),
    ("how much does shipping cost", None, 0.4, 0.49),
    ("what payment methods do you accept", None, 0.25, 0.35),
    ("my order arrived damaged", None, 0.1, 0.25),
    ("cancel my subscription", None, 0.0, 0.0),
]


@pytest.fixture
def faq(app):
    with app.app_context():
        importer.import_path(FAQ)
        db.session.commit()
        yield KnowledgeBaseResponder()


def answers_of(app) -> dict[str, tuple[str, str | None]]:
    from opencx_bridge.kb import articles

    with app.app_context():
        return {a.question: (a.answer, a.topic) for a in articles.listing()}


@pytest.mark.parametrize(("question", "article", "low", "high"), CALIBRATION)
def test_the_calibration_table(app, faq, question, article, low, high):
    with app.app_context():
        answer = faq.respond(question, [])
    assert low <= answer.confidence <= high, answer
    if article is None:
        assert answer.confidence < THRESHOLD
    else:
        assert answer.confidence >= THRESHOLD
        assert (answer.text, answer.topic) == answers_of(app)[article]
    assert answer.wants_human is False


@pytest.mark.parametrize("message", ["hi", "Hello there!", "good morning", "Hey team",
                                     "hello, how are you?", "Good afternoon everyone"])
def test_greetings_get_a_friendly_answer_without_a_search(app, faq, message):
    with app.app_context():
        answer = faq.respond(message, [])
    assert answer == Answer(GREETING_REPLY, 1.0, "smalltalk")


@pytest.mark.parametrize("message", ["thanks!", "Thank you so much", "thx", "ok thanks, bye",
                                     "Thanks for your help!", "hi, thanks a lot"])
def test_thanks_get_a_friendly_answer(app, faq, message):
    with app.app_context():
        answer = faq.respond(message, [Turn("ai", "Orders ship within 1 business day.")])
    assert answer == Answer(THANKS_REPLY, 1.0, "smalltalk")


@pytest.mark.parametrize("message", ["hi, how long does shipping take?", "hello I need help",
                                     "thanks, but how do I get a refund?", "help", "good", "",
                                     "hi " * 20])
def test_a_greeting_with_anything_else_is_not_small_talk(message):
    assert smalltalk(message) is None


def test_an_empty_knowledge_base_answers_with_zero_confidence(app):
    with app.app_context():
        answer = KnowledgeBaseResponder().respond("how long does shipping take?", [])
        greeting = KnowledgeBaseResponder().respond("hello", [])
    assert answer == Answer(NO_ANSWER, 0.0, None)
    assert greeting.confidence == 1.0


def test_the_responder_passes_on_the_best_match_as_it_is():
    asked = []

    def find(question, limit):
        asked.append((question, limit))
        return [Match(7, "Q?", "The answer.", "billing", 3.2, 0.42)]

    responder: Responder = KnowledgeBaseResponder(find)
    assert responder.respond("anything at all", []) == Answer("The answer.", 0.42, "billing")
    assert asked == [("anything at all", 1)]


def corpus(*questions: str) -> scoring.Corpus:
    return scoring.build_corpus(scoring.make_doc(i, q, "Some answer.", None, "")
                                for i, q in enumerate(questions, 1))


def test_two_articles_covering_the_question_equally_lose_the_separation_share():
    docs = corpus("How do I reset my password?", "Reset password", "Opening hours")
    ranked = scoring.rank(docs, ["reset", "password"], {1: 2.0, 2: 2.5})
    assert [r.confidence for r in ranked] == [0.7, 0.7]
    alone = scoring.rank(docs, ["reset", "password"], {1: 2.0})
    assert alone[0].confidence == 1.0


def test_generic_words_alone_are_capped_below_the_threshold():
    docs = corpus("Where is my order?", "Opening hours", "Reset password")
    terms = ["order", "help"]
    assert scoring.coverage(docs, terms, docs.docs[1]) == (pytest.approx(1 / 2.25), False)
    assert scoring.rank(docs, terms, {1: 1.0})[0].confidence == scoring.GENERIC_ONLY_CAP


def test_unknown_words_weigh_more_than_the_rarest_known_word():
    docs = corpus("Shipping times", "Opening hours")
    assert scoring.idf(docs, "kubernet") == pytest.approx(scoring.idf(docs, "ship") * 1.25)
    share, hit = scoring.coverage(docs, ["ship", "kubernet"], docs.docs[1])
    assert hit and share == pytest.approx(1 / 2.25)


def test_answer_words_earn_half_credit():
    docs = scoring.build_corpus([scoring.make_doc(1, "Shipping times", "Canada: 5 days.",
                                                  "logistics", "")])
    assert scoring.coverage(docs, ["canada"], docs.docs[1])[0] == pytest.approx(0.5)
    assert scoring.coverage(docs, ["logistic"], docs.docs[1])[0] == pytest.approx(0.5)
    assert scoring.coverage(docs, ["ship"], docs.docs[1])[0] == pytest.approx(1.0)
