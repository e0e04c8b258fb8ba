"""The knowledge base in the dashboard: list, search, new, edit, delete; admins change,
viewers read."""

from pathlib import Path

import pytest
from conftest import ADMIN_PASSWORD, csrf_token, login

from opencx_bridge.extensions import db
from opencx_bridge.kb import articles, importer
from opencx_bridge.store import users

FAQ = Path(__file__).parent / "fixtures" / "kb" / "faq.csv"


pytestmark = pytest.mark.usefixtures("quick_password_hashes")  # see conftest


@pytest.fixture
def faq(app):
    with app.app_context():
        importer.import_path(FAQ)
        db.session.commit()
        return {a.question: a.id for a in articles.listing()}


@pytest.fixture
def viewer(app):
    with app.app_context():
        users.create("admin@example.com", ADMIN_PASSWORD, "admin")
        users.create("viewer@example.com", ADMIN_PASSWORD, "viewer")
    client = app.test_client()
    assert login(client, "viewer@example.com").status_code == 302
    return client


def post_form(client, url: str, page: str | None = None, **fields):
    token = csrf_token(client.get(page or url).get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **fields})


def stored(app) -> dict[str, dict]:
    with app.app_context():
        return {a.question: {"answer": a.answer, "topic": a.topic, "tags": a.tags}
                for a in articles.listing()}


def test_the_nav_links_to_the_knowledge_base(admin):
    assert 'href="/kb/">Knowledge base</a>' in admin.get("/").get_data(as_text=True)


def test_an_empty_knowledge_base_explains_what_to_do(admin):
    page = admin.get("/kb/").get_data(as_text=True)
    assert "No articles yet" in page and "kb import" in page and 'href="/kb/new"' in page


def test_the_list_shows_every_article(admin, faq):
    page = admin.get("/kb/").get_data(as_text=True)
    for question, article_id in faq.items():
        assert question in page and f'href="/kb/{article_id}"' in page
    assert "4 in all" in page


def test_the_list_filters_by_topic(admin, faq):
    page = admin.get("/kb/?topic=billing").get_data(as_text=True)
    assert "get a refund" in page and "How long does shipping take?" not in page


def test_search_shows_matches_with_confidence(admin, faq):
    page = admin.get("/kb/?q=how+long+does+shipping+to+canada+take").get_data(as_text=True)
    assert "The AI would answer with <strong>How long does shipping take?</strong>" in page
    assert "<strong>0.80</strong>" in page and "matched by “How long does shipping take?”" in page


def test_search_without_match_says_the_ai_would_hand_off(admin, faq):
    page = admin.get('/kb/?q="kubernetes" NEAR(*)').get_data(as_text=True)
    assert "below the threshold of\n     0.60" in page and "hand this question to a person" in page
    empty = admin.get("/kb/?q=🙂").get_data(as_text=True)
    assert "No article matches" in empty and "hand this question to a person" in empty


def test_an_admin_creates_an_article(app, admin):
    response = post_form(admin, "/kb/new", question="  Do you sell gift cards? ",
                         answer="Yes, from 10 to 500 euros.", topic=" Shop ",
                         tags="Vouchers, presents")
    assert response.status_code == 302 and response.location.endswith("/kb/")
    assert "Article created." in admin.get("/kb/").get_data(as_text=True)
    assert stored(app) == {"Do you sell gift cards?": {
        "answer": "Yes, from 10 to 500 euros.", "topic": "shop", "tags": "vouchers,presents"}}


@pytest.mark.parametrize(("fields", "message"), [
    ({"question": "", "answer": "Yes."}, "Write the question customers ask."),
    ({"question": "Gift cards?", "answer": "   "}, "Write the answer the AI sends."),
    ({"question": "x" * 501, "answer": "Yes."}, "Field cannot be longer than 500 characters."),
    ({"question": "Gift cards?", "answer": "Yes.", "topic": "t" * 65},
     "Field cannot be longer than 64 characters."),
])
def test_invalid_articles_are_refused_with_inline_errors(app, admin, fields, message):
    response = post_form(admin, "/kb/new", **fields)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert '<p class="error"' in page and message in page
    assert stored(app) == {}


def test_an_admin_edits_an_article(app, admin, faq):
    article_id = faq["What are your opening hours?"]
    page = admin.get(f"/kb/{article_id}").get_data(as_text=True)
    assert "Monday to Friday" in page and "Imported from <code>csv:" in page
    response = post_form(admin, f"/kb/{article_id}", question="What are your opening hours?",
                         answer="Monday to Saturday, 9:00 to 18:00.", topic="General", tags="")
    assert response.status_code == 302
    assert stored(app)["What are your opening hours?"] == {
        "answer": "Monday to Saturday, 9:00 to 18:00.", "topic": "general", "tags": ""}


def test_an_edit_with_errors_keeps_what_was_typed(app, admin, faq):
    article_id = faq["How do I reset my password?"]
    response = post_form(admin, f"/kb/{article_id}", question="", answer="Typed answer.")
    assert response.status_code == 422
    assert "Typed answer." in response.get_data(as_text=True)
    assert stored(app)["How do I reset my password?"]["answer"].startswith('Click "Forgot')


def test_an_admin_deletes_an_article(app, admin, faq):
    article_id = faq["How long does shipping take?"]
    response = post_form(admin, f"/kb/{article_id}/delete", page=f"/kb/{article_id}")
    assert response.status_code == 302
    assert "Deleted “How long does shipping take?”." in admin.get("/kb/").get_data(as_text=True)
    assert "How long does shipping take?" not in stored(app)
    assert admin.get(f"/kb/{article_id}").status_code == 404


@pytest.mark.parametrize(("method", "url"), [
    ("get", "/kb/999"), ("post", "/kb/999"), ("post", "/kb/999/delete")])
def test_unknown_articles_are_404(admin, method, url):
    token = csrf_token(admin.get("/kb/new").get_data(as_text=True))
    response = getattr(admin, method)(url, data={"csrf_token": token})
    assert response.status_code == 404
    assert "no knowledge-base article with id 999" in response.get_data(as_text=True)


def test_a_post_without_csrf_token_is_refused(app, admin, faq):
    response = admin.post("/kb/new", data={"question": "Q?", "answer": "A."})
    assert response.status_code == 400
    assert admin.post(f"/kb/{faq['How do I reset my password?']}/delete").status_code == 400
    assert len(stored(app)) == 4


def test_a_viewer_reads_but_cannot_change(app, viewer, faq):
    article_id = faq["How long does shipping take?"]
    listing = viewer.get("/kb/").get_data(as_text=True)
    assert "How long does shipping take?" in listing and 'href="/kb/new"' not in listing
    page = viewer.get(f"/kb/{article_id}").get_data(as_text=True)
    assert "only admins can change articles" in page and "<fieldset disabled>" in page
    assert "Delete this article" not in page
    assert viewer.get("/kb/new").status_code == 403
    token = csrf_token(page)
    attempts = ((f"/kb/{article_id}", {"question": "Hacked?", "answer": "Yes."}),
                (f"/kb/{article_id}/delete", {}), ("/kb/new", {"question": "Q", "answer": "A"}))
    for url, data in attempts:
        assert viewer.post(url, data={"csrf_token": token, **data}).status_code == 403
    assert len(stored(app)) == 4 and "Hacked?" not in stored(app)


def test_signed_out_visitors_are_sent_to_the_login(app, client):
    with app.app_context():
        users.create("admin@example.com", ADMIN_PASSWORD, "admin")
    response = client.get("/kb/")
    assert response.status_code == 302 and "/login" in response.location


def test_pages_carry_no_inline_script(admin, faq):
    for url in ("/kb/", "/kb/new", f"/kb/{faq['How long does shipping take?']}", "/kb/?q=ship"):
        page = admin.get(url).get_data(as_text=True)
        assert "<script>" not in page and "onclick" not in page and "onsubmit" not in page


def test_an_admin_edits_the_other_ways_customers_ask(app, admin, faq):
    article_id = faq["What are your opening hours?"]
    page = admin.get(f"/kb/{article_id}").get_data(as_text=True)
    assert "Other ways customers ask this" in page and "Are you open on weekends?" in page
    response = post_form(admin, f"/kb/{article_id}", question="What are your opening hours?",
                         answer="Nine to five.", phrasings="Are you open on Sundays?\n\n"
                         "  when do you   close?\nWhat are your opening hours?")
    assert response.status_code == 302
    with app.app_context():
        assert articles.get(article_id).phrasings == "Are you open on Sundays?\nwhen do you close?"
    found = admin.get("/kb/?q=are+you+open+on+sundays").get_data(as_text=True)
    assert "matched by “Are you open on Sundays?”" in found


def test_a_phrasing_too_long_is_refused_inline_and_nothing_is_saved(app, admin, faq):
    article_id = faq["What are your opening hours?"]
    response = post_form(admin, f"/kb/{article_id}", question="What are your opening hours?",
                         answer="Changed.", phrasings="ok\n" + "x" * 501)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "a phrasing is longer than 500 characters" in page
    with app.app_context():
        assert articles.get(article_id).answer.startswith("Our support team")
