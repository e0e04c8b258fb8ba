"""The Suggestions page: what a rep answered to a question the AI handed off, added as an
article or a phrasing, or dismissed; admins decide, viewers read."""

from pathlib import Path

import pytest
from conftest import ADMIN_PASSWORD, csrf_token, login

from opencx_bridge.extensions import db
from opencx_bridge.kb import articles, importer, suggestions
from opencx_bridge.store import users
from opencx_bridge.store.models import Suggestion

FAQ = Path(__file__).parent / "fixtures" / "kb" / "faq.csv"

pytestmark = pytest.mark.usefixtures("quick_password_hashes")  # see conftest


@pytest.fixture
def gap(app) -> int:
    with app.app_context():
        importer.import_path(FAQ)
        row = Suggestion(conversation_id="conv-1", question="Can I pick up my parcel myself?",
                         answer="Yes, at our Berlin warehouse, weekdays 9-17.",
                         agent_name="Rita Rep", status="open")
        db.session.add(row)
        db.session.commit()
        return row.id


def post(client, url: str, **fields):
    token = csrf_token(client.get("/kb/suggestions/").get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **fields})


def status_of(app, suggestion_id: int) -> str:
    with app.app_context():
        return suggestions.get(suggestion_id).status


def test_the_knowledge_base_page_counts_open_suggestions(admin, gap):
    page = admin.get("/kb/").get_data(as_text=True)
    assert "1 suggestion from your team's replies" in page


def test_a_suggestion_shows_the_question_the_reply_and_the_closest_articles(admin, gap):
    page = admin.get("/kb/suggestions/").get_data(as_text=True)
    assert "Can I pick up my parcel myself?" in page and "Berlin warehouse" in page
    assert "answered by Rita Rep" in page and 'href="/sessions/conv-1"' in page
    assert page.index("How long does shipping take?") < page.index("Add as a phrasing")


def test_an_admin_adds_it_as_an_edited_article(app, admin, gap):
    response = post(admin, f"/kb/suggestions/{gap}/article", question="Can I collect my order?",
                    answer="Yes, at our warehouse.", topic="Shipping")
    assert response.status_code == 302
    assert "the AI answers it from now on" in admin.get("/kb/suggestions/").get_data(
        as_text=True)
    with app.app_context():
        article = next(a for a in articles.listing() if a.question == "Can I collect my order?")
        assert (article.answer, article.topic) == ("Yes, at our warehouse.", "shipping")
    assert status_of(app, gap) == "added"


def test_an_admin_adds_the_question_as_a_phrasing(app, admin, gap):
    with app.app_context():
        shipping = next(a for a in articles.listing() if a.topic == "shipping").id
    response = post(admin, f"/kb/suggestions/{gap}/phrasing",
                    question="Can I pick up my parcel myself?", article_id=str(shipping))
    assert response.status_code == 302
    with app.app_context():
        assert "Can I pick up my parcel myself?" in articles.get(shipping).phrasings
    assert status_of(app, gap) == "phrasing"


@pytest.mark.parametrize("article_id", ["", "abc", "99999", "9" * 40])
def test_a_phrasing_without_a_real_article_says_so(app, admin, gap, article_id):
    response = post(admin, f"/kb/suggestions/{gap}/phrasing", question="q?",
                    article_id=article_id)
    assert response.status_code == 422
    assert "choose the article this question belongs to" in response.get_data(as_text=True)
    assert status_of(app, gap) == "open"


def test_an_empty_answer_is_refused_inline_and_what_was_typed_stays(app, admin, gap):
    response = post(admin, f"/kb/suggestions/{gap}/article", question="Typed question?",
                    answer="  ", topic="")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "empty answer" in page and 'value="Typed question?"' in page
    assert status_of(app, gap) == "open"


def test_dismiss_and_a_second_decision(app, admin, gap):
    assert post(admin, f"/kb/suggestions/{gap}/dismiss").status_code == 302
    assert status_of(app, gap) == "dismissed"
    again = post(admin, f"/kb/suggestions/{gap}/article", question="q?", answer="a.")
    assert again.status_code in (404, 422)


def test_unknown_suggestions_and_expired_forms(admin, gap):
    assert post(admin, "/kb/suggestions/9999/dismiss").status_code == 404
    assert admin.post(f"/kb/suggestions/{gap}/dismiss").status_code == 400


def test_a_viewer_reads_but_cannot_decide(app, client, gap):
    with app.app_context():
        users.create("viewer@example.com", ADMIN_PASSWORD, "viewer")
    login(client, "viewer@example.com")
    page = client.get("/kb/suggestions/").get_data(as_text=True)
    assert "Berlin warehouse" in page and "Add as a new article" not in page
    token = csrf_token(client.get("/kb/").get_data(as_text=True))
    for action in ("article", "phrasing", "dismiss"):
        response = client.post(f"/kb/suggestions/{gap}/{action}", data={"csrf_token": token})
        assert response.status_code == 403
    assert status_of(app, gap) == "open"
