"""`kb eval` in the dashboard: upload, the figures per threshold, choosing the threshold;
admins only, every bad upload said in plain words."""

import io
import re
from pathlib import Path

import pytest
from conftest import ADMIN_PASSWORD, csrf_token, login

from opencx_bridge.kb import importer
from opencx_bridge.store import settings, users

HINT3 = Path(__file__).parent / "fixtures" / "kb" / "hint3_sofmattress"

pytestmark = pytest.mark.usefixtures("quick_password_hashes")  # see conftest


@pytest.fixture
def faq(app):
    with app.app_context():
        importer.import_path(HINT3 / "faq_10.csv")


def upload(client, content: bytes, name: str = "questions.csv"):
    token = csrf_token(client.get("/kb/eval/").get_data(as_text=True))
    return client.post("/kb/eval/", data={"csrf_token": token,
                                          "questions": (io.BytesIO(content), name)},
                       content_type="multipart/form-data")


def test_the_knowledge_base_page_links_to_the_test(admin):
    assert 'href="/kb/eval/"' in admin.get("/kb/").get_data(as_text=True)


def test_an_upload_shows_the_figures_the_curve_and_every_question(app, admin, faq):
    response = upload(admin, (HINT3 / "questions.csv").read_bytes())
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert ("397 questions: top-1 68%, answered 26%, right when answered 85%, handed off when "
            "it should 97%") in page  # the same as `flask kb eval` prints
    assert page.count('<polyline class="line') == 3 and 'aria-label="Share of questions' in page
    assert len(re.findall(r'<button type="submit">Use \d\.\d\d</button>', page)) == 9
    assert page.count('<tr class="chosen">') == 1
    assert "the first 500 of 397" not in page
    assert page.count("right answer</span>") + page.count("wrong answer</span>") > 50


def test_choosing_a_threshold_saves_it_and_audits_who(app, admin, faq):
    page = upload(admin, (HINT3 / "questions.csv").read_bytes()).get_data(as_text=True)
    response = admin.post("/kb/eval/threshold", data={"csrf_token": csrf_token(page),
                                                     "threshold": "0.70"})
    assert response.status_code == 302
    after = admin.get("/kb/eval/").get_data(as_text=True)
    assert "The AI now hands off below a confidence of 0.70." in after
    with app.app_context():
        assert settings.get("handoff_confidence_threshold") == 0.7
        assert ("handoff_confidence_threshold", "0.7", "admin@example.com") in {
            (c.key, c.new, c.who) for c in settings.recent_changes()}


def test_a_threshold_out_of_range_is_refused_and_nothing_changes(app, admin):
    token = csrf_token(admin.get("/kb/eval/").get_data(as_text=True))
    admin.post("/kb/eval/threshold", data={"csrf_token": token, "threshold": "7"})
    assert "Threshold not changed:" in admin.get("/kb/eval/").get_data(as_text=True)
    with app.app_context():
        assert settings.get("handoff_confidence_threshold") == 0.6


@pytest.mark.parametrize(("content", "status", "message"), [
    (b"question,answer\nq,a\n", 422, "questions.csv: the first line must name the columns "
                                    "question,expected (found: question,answer)."),
    (b"question,expected\n", 422, "no questions: add rows below"),
    (b"\xff\xfe\x00 not text", 422, "questions.csv is not UTF-8 text"),
    (b"question,expected\n" + b"q,\n" * 2001, 422, "the dashboard tests at most 2,000"),
])
def test_a_bad_upload_says_what_is_wrong(admin, content, status, message):
    response = upload(admin, content)
    assert response.status_code == status
    assert message in response.get_data(as_text=True)


def test_no_file_or_an_expired_form(admin):
    token = csrf_token(admin.get("/kb/eval/").get_data(as_text=True))
    empty = admin.post("/kb/eval/", data={"csrf_token": token})
    assert empty.status_code == 422
    assert "Choose a CSV file" in empty.get_data(as_text=True)
    expired = admin.post("/kb/eval/", data={"questions": (io.BytesIO(b"x"), "q.csv")},
                         content_type="multipart/form-data")
    assert expired.status_code == 400


def test_a_file_over_5_mb_is_refused_before_it_is_read(admin):
    token = csrf_token(admin.get("/kb/eval/").get_data(as_text=True))
    body = (b"--B\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n"
            + token.encode() + b"\r\n--B\r\nContent-Disposition: form-data; name=\"questions\"; "
            b"filename=\"q.csv\"\r\n\r\nquestion,expected\n" + b"x" * (5 * 1024 * 1024)
            + b"\r\n--B--\r\n")
    response = admin.post("/kb/eval/", data=body,  # bytes as they are: no temporary file
                          content_type="multipart/form-data; boundary=B")
    assert response.status_code == 413
    assert "larger than 5 MB" in response.get_data(as_text=True)


def test_a_viewer_cannot_run_it_or_choose(app, client):
    with app.app_context():
        users.create("viewer@example.com", ADMIN_PASSWORD, "viewer")
    login(client, "viewer@example.com")
    assert client.get("/kb/eval/").status_code == 403
    assert 'href="/kb/eval/"' not in client.get("/kb/").get_data(as_text=True)
    token = csrf_token(client.get("/kb/").get_data(as_text=True))
    assert client.post("/kb/eval/", data={"csrf_token": token}).status_code == 403
    assert client.post("/kb/eval/threshold", data={"csrf_token": token,
                                                   "threshold": "0.1"}).status_code == 403


def test_a_body_larger_than_any_form_is_refused_before_it_is_parsed(admin):
    response = admin.post("/kb/eval/", data=b"x" * (7 * 1024 * 1024),
                          content_type="multipart/form-data; boundary=B")
    assert response.status_code == 413
