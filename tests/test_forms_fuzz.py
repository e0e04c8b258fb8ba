"""Property-based tests of every form handler: whatever a signed-in admin (or a stranger)
types, the answer is never a 5xx, and a refused form changes nothing."""

from urllib.parse import quote

import pytest
from conftest import csrf_token
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete

from opencx_bridge.extensions import db
from opencx_bridge.kb import articles
from opencx_bridge.store import integration
from opencx_bridge.store import settings as runtime_settings
from opencx_bridge.store import users as users_module
from opencx_bridge.store.models import User
from opencx_bridge.store.setting_specs import SPECS
from opencx_bridge.web.security import LoginThrottle

FUZZ = settings(max_examples=40, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])
field_text = st.text(max_size=300)


def token(client, page: str) -> str:
    return csrf_token(client.get(page).get_data(as_text=True))


@pytest.fixture
def unreachable(app):
    app.config["FRESHCHAT_API_BASE"] = "http://127.0.0.1:9/v2"  # nothing listens: fails fast
    app.config["FRESHCHAT_TIMEOUT"] = 0.5


@FUZZ
@given(domain=field_text, access_token=field_text, email=field_text, key=field_text,
       auto=st.booleans())
def test_the_freshchat_form_never_5xx_and_saves_nothing_it_cannot_verify(
        app, admin, unreachable, domain, access_token, email, key, auto):
    data = {"csrf_token": token(admin, "/settings/freshchat"), "domain": domain,
            "access_token": access_token, "default_agent_email": email,
            "webhook_public_key": key}
    if auto:
        data["auto_handle_all"] = "y"
    response = admin.post("/settings/freshchat", data=data)
    assert response.status_code in (400, 422)
    with app.app_context():
        assert not integration.is_connected(integration.get())


@FUZZ
@given(values=st.fixed_dictionaries({key: field_text for key in SPECS}))
def test_the_ai_settings_form_never_5xx_and_is_all_or_nothing(app, admin, values):
    with app.app_context():
        before = runtime_settings.all_values()
    data = {"csrf_token": token(admin, "/settings/ai"), **values}
    response = admin.post("/settings/ai", data=data)
    assert response.status_code in (302, 422)
    with app.app_context():
        after = runtime_settings.all_values()
        if response.status_code == 422:
            assert after == before
        else:  # saved: every field holds what its parser made of the posted text
            expected = {key: runtime_settings.parse(key, text) for key, text in values.items()
                        if not SPECS[key].secret or text.strip()}
            assert {key: after[key] for key in expected} == expected


@FUZZ
@given(question=field_text, answer=field_text, topic=field_text, tags=field_text)
def test_the_article_form_never_5xx_and_a_refusal_adds_nothing(app, admin, question, answer,
                                                               topic, tags):
    with app.app_context():
        before = articles.count()
    data = {"csrf_token": token(admin, "/kb/new"), "question": question, "answer": answer,
            "topic": topic, "tags": tags}
    status = admin.post("/kb/new", data=data).status_code
    assert status in (302, 422)
    with app.app_context():
        assert articles.count() == before + (1 if status == 302 else 0)


@FUZZ
@given(email=field_text, password=field_text)
def test_the_login_form_never_5xx(app, client, email, password):
    from opencx_bridge.store import users

    with app.app_context():
        if users.count() == 0:
            users.create("someone@example.com", "a long password", "admin")
    app.extensions["opencx_login_throttle"] = LoginThrottle()  # each example starts unthrottled
    data = {"csrf_token": token(client, "/login"), "email": email, "password": password}
    assert client.post("/login", data=data).status_code == 200  # refused, with the form again


@FUZZ
@example(email="first@example.com", password="long enough password",
         confirm="long enough password")
@given(email=field_text, password=field_text, confirm=field_text)
def test_the_first_admin_form_never_5xx(app, client, email, password, confirm):
    with app.app_context():
        db.session.execute(delete(User))  # every example sees a bridge without users
        db.session.commit()
    client.delete_cookie("session")
    page = client.get("/setup")
    data = {"csrf_token": csrf_token(page.get_data(as_text=True)), "email": email,
            "password": password, "confirm": confirm}
    status = client.post("/setup", data=data).status_code
    assert status in (200, 302)
    with app.app_context():
        assert users_module.count() == (1 if status == 302 else 0)


@FUZZ
@given(identifier=st.text(min_size=1, max_size=40).filter(lambda s: "/" not in s))
def test_session_actions_on_any_identifier_never_5xx(admin, identifier):
    page_token = token(admin, "/")
    for action in ("handoff", "resolve"):
        response = admin.post(f"/sessions/{identifier}/{action}",
                              data={"csrf_token": page_token})
        assert response.status_code < 500
    with admin.application.app_context():
        db.session.remove()


# Every query parameter and header the dashboard reads, with whatever a client can send.
query_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=60)
header_value = st.text(st.characters(max_codepoint=255, blacklist_characters="\r\n"),
                       max_size=40)


@FUZZ
@given(status=query_text, q=query_text, before=query_text, seen=query_text, hx=header_value)
def test_the_inbox_never_5xx_whatever_its_query(admin, status, q, before, seen, hx):
    for page in ("/", "/inbox/rows"):
        response = admin.get(page, query_string={"status": status, "q": q, "before": before,
                                                 "seen": seen}, headers={"HX-Request": hx})
        assert response.status_code < 500


@FUZZ
@given(q=query_text, topic=query_text, seen=query_text, identifier=query_text)
def test_the_kb_and_session_pages_never_5xx_whatever_their_query(admin, q, topic, seen,
                                                                identifier):
    assert admin.get("/kb", query_string={"q": q, "topic": topic}).status_code < 500
    response = admin.get("/sessions/" + quote(identifier or "x", safe=""),
                         query_string={"seen": seen})
    assert response.status_code < 500


@FUZZ
@given(target=query_text)
def test_login_next_never_5xx_and_never_leaves(app, admin, target):
    response = admin.get("/login", query_string={"next": target})  # signed in: sent on
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith("/") and not location.startswith("//")
    assert not any(ord(c) < 32 or ord(c) == 127 for c in location)
    assert app.test_client().get("/login", query_string={"next": target}).status_code == 200
