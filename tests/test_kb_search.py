"""Knowledge-base search: tokens, the FTS5 index and its triggers, hostile queries, the
pure-Python fallback, and the migration that creates the index."""

from pathlib import Path

import databases
import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect
from sqlalchemy import text as sql

from opencx_bridge.extensions import db
from opencx_bridge.kb import articles, importer, scoring, search, text

FAQ = Path(__file__).parent / "fixtures" / "kb" / "faq.csv"
HOSTILE = ['"', "'", '"unbalanced', "*", "ship*", "-shipping", "NOT shipping", "shipping NOT",
           "NEAR(shipping canada, 2)", "question: answer", "topic:shipping", "^shipping",
           "(shipping", "shipping)", "a AND OR NOT b", "{question answer}: canada",
           "shipping + canada", "\x00shipping", "shipping\\", "‘shipping’ «canada»", "🚚 shipping",
           "", "   ", "? ! .", "x" * 5000, "shipping " * 300]


ON_SQLITE = not databases.ON_POSTGRESQL  # FTS5 is SQLite's; elsewhere the Python BM25 ranks
sqlite_only = pytest.mark.skipif(databases.ON_POSTGRESQL, reason="FTS5 exists on SQLite only")


@pytest.fixture
def faq(app):
    with app.app_context():
        importer.import_path(FAQ)
        db.session.commit()
        yield {row.question: row.id for row in articles.listing()}


def drop_fts() -> None:
    for statement in ("DROP TRIGGER article_fts_insert", "DROP TRIGGER article_fts_update",
                      "DROP TRIGGER article_fts_delete", "DROP TABLE article_fts"):
        db.session.execute(sql(statement))
    db.session.commit()


@pytest.mark.parametrize(("word", "stem"), [
    ("shipping", "ship"), ("shipped", "ship"), ("ships", "ship"), ("deliveries", "delivery"),
    ("boxes", "box"), ("addresses", "address"), ("refunds", "refund"), ("hours", "hour"),
    ("changing", "chang"), ("changes", "chang"), ("internationally", "international"),
    ("status", "status"), ("502", "502"), ("bring", "bring"),
])
def test_the_light_stemmer_folds_plurals_and_endings(word, stem):
    assert text.stem(word) == stem


def test_query_terms_drop_stop_words_and_fold_accents():
    assert text.query_terms("How long does Shipping to Canada take? Café, cafe!") == [
        "long", "ship", "canada", "tak", "caf"]


@pytest.mark.parametrize("hostile", HOSTILE)
def test_the_match_query_is_only_quoted_words_joined_with_or(hostile):
    query = text.fts_match_query(hostile)
    if query is not None:
        for part in query.split(" OR "):
            assert part.startswith('"') and part.endswith('"') and part.count('"') == 2


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_queries_never_break_the_search(app, faq, hostile):
    with app.app_context():
        assert search.fts_available() is ON_SQLITE
        results = search.search(hostile)
    assert all(0 <= match.confidence <= 1 for match in results)


def test_search_finds_the_shipping_article_with_fts(app, faq):
    with app.app_context():
        results = search.search("how long does shipping to canada take")
    assert results[0].article_id == faq["How long does shipping take?"]
    assert results[0].topic == "shipping"
    assert results[0].answer.startswith("Orders ship within 1 business day")
    assert results[0].score > 0 and results[0].confidence >= 0.5


def test_results_are_sorted_and_limited(app, faq):
    with app.app_context():
        results = search.search("opening hours password shipping refund", limit=2)
    assert len(results) == 2
    assert results[0].confidence >= results[1].confidence


def test_no_content_words_no_results(app, faq):
    with app.app_context():
        assert search.search("how do I do it?") == []
        assert search.search("shipping", limit=0) == []


def test_an_empty_knowledge_base_gives_no_results(app):
    with app.app_context():
        assert search.search("how long does shipping take") == []


@sqlite_only
def test_the_triggers_keep_the_index_in_step(app):
    with app.app_context():
        article = articles.create("Do you sell gift cards?", "Yes, from 10 to 500 euros.",
                                  "shop", "vouchers")
        db.session.commit()
        assert [m.article_id for m in search.search("gift vouchers")] == [article.id]
        articles.update(article, "Do you sell gift certificates?", "Yes.", "shop", "")
        db.session.commit()
        assert search.search("vouchers") == []
        assert [m.article_id for m in search.search("certificates")] == [article.id]
        articles.delete(article)
        db.session.commit()
        assert search.search("certificates") == []
        count = db.session.execute(sql("SELECT count(*) FROM article_fts")).scalar()
        assert count == 0


def test_the_cached_corpus_follows_edits(app, faq):
    with app.app_context():
        before = search.search("parcel lockers")
        article = articles.get(faq["How long does shipping take?"])
        articles.update(article, "Do you deliver to parcel lockers?", article.answer,
                        article.topic, "")
        db.session.commit()
        after = search.search("parcel lockers")
    assert before == [] or before[0].confidence < 0.5
    assert after[0].article_id == article.id and after[0].confidence > 0.9


QUERIES = ["how long does shipping to canada take", "how do I get a refund", "opening hours",
           "forgot my password", "my API webhook returns error 502 on kubernetes",
           "where is my order", "how long does it take to get a refund"]


@sqlite_only
def test_without_fts5_the_python_bm25_picks_the_same_articles(app, faq):
    with app.app_context():
        with_fts = {q: search.search(q, 1) for q in QUERIES}
        drop_fts()
        assert not search.fts_available()
        without = {q: search.search(q, 1) for q in QUERIES}
        assert [m.article_id for m in search.search("gift cards", 1)] == []
        assert all(search.search(h) is not None for h in HOSTILE)
    for query in QUERIES:
        assert [(m.article_id, m.confidence) for m in with_fts[query]] == \
            [(m.article_id, m.confidence) for m in without[query]], query


def test_python_bm25_prefers_the_article_that_repeats_the_rare_word():
    corpus = scoring.build_corpus([
        scoring.make_doc(1, "Shipping times", "Parcels ship daily.", "shipping", ""),
        scoring.make_doc(2, "Returns", "Return shipping is free.", "billing", ""),
        scoring.make_doc(3, "Opening hours", "Nine to five.", None, "")])
    scores = scoring.bm25(corpus, text.query_terms("shipping"))
    assert set(scores) == {1, 2} and scores[1] > scores[2]
    assert scoring.bm25(corpus, ["kubernet"]) == {}


def test_the_migration_goes_down_and_up_again(app):
    with app.app_context():
        downgrade(revision="0002_delivery")
        tables = inspect(db.engine).get_table_names()
        assert "article" not in tables and "article_fts" not in tables
        upgrade()
        expected = {"article", "article_fts"} if ON_SQLITE else {"article"}
        assert expected <= set(inspect(db.engine).get_table_names())
        articles.create("Where are you based?", "Berlin.", None, "")
        db.session.commit()
        assert search.search("based")[0].question == "Where are you based?"
