"""Matching by meaning (kb/semantic.py) with a local fake embeddings server: a paraphrase
that shares no word with its article is answered; with the server down the search falls
back to words and diagnostics says so."""

from datetime import timedelta

import pytest
from openai_server import OpenAIServer
from sqlalchemy import func, select

from opencx_bridge.extensions import db
from opencx_bridge.kb import articles, semantic
from opencx_bridge.kb.responder import KnowledgeBaseResponder
from opencx_bridge.scheduler import diagnostics
from opencx_bridge.store import settings
from opencx_bridge.store.models import PhrasingEmbedding

SHIPPING = "Parcels leave our warehouse within a day and arrive in 2-4 days."
PARAPHRASE = "when will my stuff turn up"  # no word in common with the article
MEANINGS = {"shipping": 1, "delivery": 1, "arrive": 1, "turn": 1, "up": 1, "stuff": 2,
            "order": 2, "when": 3, "long": 3, "take": 3, "refund": 4, "money": 4, "back": 4,
            "password": 5, "reset": 5}


@pytest.fixture
def server():
    with OpenAIServer() as running:
        running.meanings = dict(MEANINGS)
        yield running


@pytest.fixture
def kb(app):
    with app.app_context():
        articles.save(None, "How long does shipping take?", SHIPPING, "shipping", "",
                      "When will my order arrive?")
        articles.save(None, "How do I get a refund?", "Refunds take 5 days.", "billing", "",
                      "I want my money back")
        articles.save(None, "How do I reset my password?", "Use Forgot password.", None, "")


def switch_on(server, model="fake-embed"):
    settings.set_many({"openai_base_url": server.base_url, "embeddings_model": model}, "test")


def check(app):
    with app.app_context():
        return next(c for c in diagnostics.run() if c.id == "embeddings")


def test_off_by_default_and_the_check_says_so(app, kb):
    with app.app_context():
        assert semantic.configured() is None
        assert KnowledgeBaseResponder().respond(PARAPHRASE, []).confidence < 0.6
    found = check(app)
    assert found.status == "ok" and "matching by meaning is off" in found.message


def test_a_paraphrase_without_a_shared_word_is_answered(app, kb, server):
    with app.app_context():
        switch_on(server)
        answer = KnowledgeBaseResponder().respond(PARAPHRASE, [])
        assert (answer.text, answer.topic) == (SHIPPING, "shipping")
        assert answer.confidence >= 0.6
        unrelated = KnowledgeBaseResponder().respond("do you sell gift cards", [])
        assert unrelated.confidence < 0.6
        stored = db.session.scalar(select(func.count(PhrasingEmbedding.id)))
        assert stored == 5  # every phrasing once (empty tag lines are no phrasing)
    found = check(app)
    assert found.status == "ok" and "'fake-embed'" in found.message


def test_phrasings_are_embedded_once_and_again_when_they_change(app, kb, server):
    with app.app_context():
        switch_on(server)
        semantic.article_scores(_index(), "refund")
        semantic.article_scores(_index(), "money")
        batches = [r for r in server.requests if len(r["json"]["input"]) > 1]
        assert len(batches) == 1  # the phrasings; each question is one text
        article = next(a for a in articles.listing() if a.topic == "billing")
        articles.save(article, article.question, article.answer, "billing", "",
                      "Can I have my money back?")
        asked_before = len(server.requests)
        semantic.article_scores(_index(), "money")
        assert [r["json"]["input"] for r in server.requests[asked_before:]] == [
            ["Can I have my money back?"], ["money"]]
        texts = db.session.scalar(select(func.count(PhrasingEmbedding.id)))
        assert texts == 5  # the phrasing no article has any more was deleted


def test_with_the_server_down_words_still_answer_and_diagnostics_say_why(app, kb, server):
    with app.app_context():
        switch_on(server)
        assert KnowledgeBaseResponder().respond(PARAPHRASE, []).text == SHIPPING
        server.stop()
        by_words = KnowledgeBaseResponder().respond("How do I reset my password?", [])
        assert by_words.text == "Use Forgot password."
        assert KnowledgeBaseResponder().respond(PARAPHRASE, []).confidence < 0.6
    found = check(app)
    assert found.status == "warn"
    assert "cannot reach the embeddings server" in found.message
    assert "matches by words until it answers again" in found.message
    assert "POST /embeddings" in found.fix


def test_a_model_the_server_does_not_have_is_named(app, kb, server, monkeypatch):
    server.embeddings_fail(404, {"error": {"message": "model \"nomic\" not found"}})
    with app.app_context():
        switch_on(server, "nomic")
        assert KnowledgeBaseResponder().respond(PARAPHRASE, []).confidence < 0.6
    found = check(app)
    assert found.status == "warn" and 'HTTP 404: model "nomic" not found' in found.message
    assert "ollama pull nomic" in found.fix
    with app.app_context():  # within the pause nobody asks; after it, it answers again
        KnowledgeBaseResponder().respond(PARAPHRASE, [])
        assert len([r for r in server.requests if r["path"].endswith("/embeddings")]) == 1
        monkeypatch.setattr(semantic, "PAUSE_AFTER_FAILURE", timedelta(0))
        assert KnowledgeBaseResponder().respond(PARAPHRASE, []).text == SHIPPING
    assert check(app).status == "ok"


def test_a_model_without_a_server_is_a_warning(app, kb):
    with app.app_context():
        settings.set_many({"embeddings_model": "fake-embed"}, "test")
        assert semantic.configured() is None
    found = check(app)
    assert found.status == "warn" and "openai_base_url is empty" in found.message


def _index():
    from opencx_bridge.kb import search

    return search.current_index()


def test_a_model_whose_vectors_change_length_is_embedded_again(app, kb, server, monkeypatch):
    monkeypatch.setattr(semantic, "PAUSE_AFTER_FAILURE", timedelta(0))
    with app.app_context():
        switch_on(server)
        assert KnowledgeBaseResponder().respond(PARAPHRASE, []).text == SHIPPING
        server.dimensions = 48
        assert KnowledgeBaseResponder().respond(PARAPHRASE, []).confidence < 0.6
        assert db.session.scalar(select(func.count(PhrasingEmbedding.id))) == 0
    assert "changed length (32 → 48)" in check(app).message
    with app.app_context():
        assert KnowledgeBaseResponder().respond(PARAPHRASE, []).text == SHIPPING
        assert db.session.scalar(select(func.count(PhrasingEmbedding.id))) == 5


def test_pages_that_search_many_texts_can_leave_meaning_out(app, kb, server):
    from opencx_bridge.kb import search

    with app.app_context():
        switch_on(server)
        search.search(PARAPHRASE, 3, by_meaning=False)
    assert server.requests == []
