"""Accounts in the browser: the one-time first-admin page, sign in, sign out, the login guard."""

import re
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from conftest import ADMIN_PASSWORD, csrf_token, login
from markupsafe import escape

from opencx_bridge.extensions import db
from opencx_bridge.store import integration, users

DASHBOARD_PAGES = ["/", "/?status=open", "/settings/freshchat", "/sessions/1"]


pytestmark = pytest.mark.usefixtures("quick_password_hashes")  # see conftest


def user_count(app) -> int:
    with app.app_context():
        return users.count()


def setup_form(client, **fields):
    page = client.get("/setup").get_data(as_text=True)
    data = {"email": "owner@example.com", "password": ADMIN_PASSWORD,
            "confirm": ADMIN_PASSWORD, "csrf_token": csrf_token(page), **fields}
    return client.post("/setup", data=data)


def signed_in(client) -> bool:
    return client.get("/").status_code == 200


# -- a fresh install -------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/", "/settings/freshchat", "/login", "/sessions/1"])
def test_with_no_users_every_page_leads_to_the_first_admin_page(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/setup"


def test_the_first_admin_page_asks_for_email_and_password_twice(client):
    page = client.get("/setup")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Create the first admin" in html
    for name in ("email", "password", "confirm", "csrf_token"):
        assert f'name="{name}"' in html


def test_creating_the_first_admin_signs_them_in(app, client):
    response = setup_form(client, email="  Owner@Example.com ")
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/settings/freshchat"
    page = client.get("/settings/freshchat")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Welcome! Connect your Freshchat workspace" in html
    assert "owner@example.com (admin)" in html
    with app.app_context():
        [user] = users.all_users()
        assert (user.email, user.role) == ("owner@example.com", "admin")


def test_a_short_password_is_refused_inline(app, client):
    response = setup_form(client, password="short", confirm="short")
    assert response.status_code == 200
    assert "at least 10 characters" in response.get_data(as_text=True)
    assert user_count(app) == 0
    assert not signed_in(client)


def test_a_mismatched_confirmation_is_shown_inline(app, client):
    response = setup_form(client, confirm="something else entirely")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert re.search(r'<p class="error" id="confirm-error">passwords differ</p>', html)
    assert 'value="owner@example.com"' in html  # what was typed is kept
    assert user_count(app) == 0


def test_a_bad_email_is_refused_inline(app, client):
    response = setup_form(client, email="not-an-email")
    assert response.status_code == 200
    assert str(escape("'not-an-email' is not an email address")) in response.get_data(as_text=True)
    assert user_count(app) == 0


def test_the_first_admin_page_needs_the_csrf_token(app, client):
    client.get("/setup")
    response = client.post("/setup", data={"email": "owner@example.com",
                                           "password": ADMIN_PASSWORD, "confirm": ADMIN_PASSWORD})
    assert response.status_code == 400
    assert user_count(app) == 0


def test_after_the_first_admin_the_setup_page_is_gone(app, client):
    setup_form(client)
    stranger = app.test_client()
    response = stranger.get("/setup")
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/login"


def test_a_second_admin_cannot_be_created_through_setup(app, client):
    setup_form(client)
    stranger = app.test_client()
    token = csrf_token(stranger.get("/login").get_data(as_text=True))
    response = stranger.post("/setup", data={
        "email": "intruder@example.com", "password": ADMIN_PASSWORD,
        "confirm": ADMIN_PASSWORD, "csrf_token": token,
    })
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/login"
    assert user_count(app) == 1
    assert not signed_in(stranger)
    # and a signed-in admin is not offered the page either
    assert client.get("/setup").status_code == 302
    assert user_count(app) == 1


# -- the login guard ---------------------------------------------------------------------------

@pytest.fixture
def account(app):
    with app.app_context():
        users.create("admin@example.com", ADMIN_PASSWORD, "admin")


@pytest.mark.parametrize("path", DASHBOARD_PAGES)
def test_every_dashboard_page_needs_login(account, client, path):
    response = client.get(path)
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/login"
    assert parse_qs(location.query) == {"next": [path]}


def test_the_public_pages_need_no_login(account, client):
    assert client.get("/login").status_code == 200
    assert client.get("/healthz").status_code == 200


def test_an_anonymous_settings_post_goes_to_login_and_changes_nothing(app, account, client):
    token = csrf_token(client.get("/login").get_data(as_text=True))
    response = client.post("/settings/freshchat", data={
        "csrf_token": token, "domain": "evil.freshchat.com", "access_token": "t",
        "default_agent_email": "x@evil.example", "auto_handle_all": "y",
    })
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/settings/freshchat"
    with app.app_context():
        assert integration.get().domain is None


def test_an_anonymous_disconnect_changes_nothing(app, account, client):
    with app.app_context():
        row = integration.get()
        row.domain = "acme.freshchat.com"
        db.session.commit()
    token = csrf_token(client.get("/login").get_data(as_text=True))
    response = client.post("/settings/freshchat/disconnect", data={"csrf_token": token})
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/login"
    with app.app_context():
        assert integration.get().domain == "acme.freshchat.com"


def test_an_anonymous_post_without_a_csrf_token_is_sent_to_login(app, account, client):
    response = client.post("/settings/freshchat", data={"domain": "evil.freshchat.com"})
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/login"
    with app.app_context():
        assert integration.get().domain is None


# -- signing in and out ------------------------------------------------------------------------

def test_the_login_form_has_email_password_and_csrf_token(account, client):
    html = client.get("/login").get_data(as_text=True)
    names = set(re.findall(r'<(?:input|textarea|select)[^>]*\bname="([^"]+)"', html))
    assert {"email", "password", "csrf_token"} <= names
    assert re.search(r'<form method="post"', html)


def test_signing_in_goes_to_the_inbox(account, client):
    response = login(client, "admin@example.com")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert signed_in(client)


def test_the_email_is_matched_case_insensitively(account, client):
    assert login(client, "  ADMIN@example.COM ").status_code == 302
    assert signed_in(client)


def test_signing_in_returns_to_the_page_asked_for_even_after_a_typo(account, client):
    login_url = client.get("/settings/freshchat").headers["Location"]
    page = client.get(login_url).get_data(as_text=True)
    assert '<form method="post" novalidate>' in page  # posts back to the URL with ?next=
    token = csrf_token(page)
    typo = client.post(login_url, data={
        "email": "admin@example.com", "password": "typo typo typo", "csrf_token": token})
    assert typo.status_code == 200
    response = client.post(login_url, data={
        "email": "admin@example.com", "password": ADMIN_PASSWORD, "csrf_token": token})
    assert response.headers["Location"] == "/settings/freshchat"


@pytest.mark.parametrize("email, password", [
    ("admin@example.com", "wrong password!"),
    ("nobody@example.com", ADMIN_PASSWORD),
])
def test_a_wrong_password_is_shown_inline_and_opens_no_session(account, client, email, password):
    response = login(client, email, password)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<p class="error" id="password-error">Wrong email or password.</p>' in html
    assert 'value="' + password not in html  # the password is not echoed back
    assert not signed_in(client)


def test_a_login_without_csrf_token_is_refused(account, client):
    client.get("/login")
    response = client.post("/login", data={"email": "admin@example.com",
                                            "password": ADMIN_PASSWORD})
    assert response.status_code == 400
    assert not signed_in(client)


@pytest.mark.parametrize("target", [
    "//evil.example", "https://evil.example", "https://evil.example/login", "http:evil.example",
    "///evil.example", "/\\evil.example", "\\\\evil.example", "/\t/evil.example",
    "javascript:alert(1)", "evil.example",
    "/inbox\r\nSet-Cookie: a=b", "/\nevil", "/x\x00y", "/\x7f",  # control characters
])
def test_next_never_leaves_the_site(account, client, target):
    token = csrf_token(client.get("/login").get_data(as_text=True))
    response = client.post("/login?next=" + quote(target, safe=""), data={
        "email": "admin@example.com", "password": ADMIN_PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    location = response.headers["Location"]
    parts = urlsplit(location)
    assert not parts.scheme and not parts.netloc
    assert location.startswith("/") and not location.startswith(("//", "/\\"))
    assert "evil" not in location or location.startswith("/%5C")
    assert not any(ord(c) < 32 for c in location) and "Set-Cookie" not in location


@pytest.mark.parametrize("target", ["/inbox\r\nX: y", "/\x01"])
def test_a_signed_in_user_sent_to_a_bad_next_lands_on_the_inbox(admin, target):
    response = admin.get("/login?next=" + quote(target, safe=""))
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_logout_is_not_a_link(admin):
    assert admin.get("/logout").status_code == 405
    assert signed_in(admin)


def test_logout_needs_the_csrf_token(admin):
    response = admin.post("/logout")
    assert response.status_code == 400
    assert signed_in(admin)


def test_logout_with_the_csrf_token_signs_out(admin):
    token = csrf_token(admin.get("/").get_data(as_text=True))  # the header's sign-out form
    response = admin.post("/logout", data={"csrf_token": token})
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/login"
    assert not signed_in(admin)
    assert admin.get("/settings/freshchat").status_code == 302


def session_cookie(client) -> str:
    return client.get_cookie("session").value


def test_a_cookie_copied_before_logout_opens_nothing_after_it(app, admin):
    copied = session_cookie(admin)
    token = csrf_token(admin.get("/").get_data(as_text=True))
    admin.post("/logout", data={"csrf_token": token})
    thief = app.test_client()
    thief.set_cookie("session", copied)
    for page in ("/", "/settings/freshchat", "/diagnostics"):
        response = thief.get(page)
        assert response.status_code == 302
        assert urlsplit(response.headers["Location"]).path == "/login"


def test_signing_in_again_after_logout_works(app, admin):
    token = csrf_token(admin.get("/").get_data(as_text=True))
    admin.post("/logout", data={"csrf_token": token})
    assert login(admin, "admin@example.com").status_code == 302
    assert signed_in(admin)


def test_deleting_a_user_ends_their_sessions(app, client):
    with app.app_context():
        users.create("admin@example.com", ADMIN_PASSWORD, "admin")
        users.create("viewer@example.com", ADMIN_PASSWORD, "viewer")
    assert login(client, "viewer@example.com").status_code == 302
    assert client.get("/").status_code == 200
    with app.app_context():
        users.delete("viewer@example.com")
    response = client.get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_cookie_from_before_session_versions_signs_in_again(app, admin):
    with app.test_request_context(), admin.session_transaction() as session:
        session["_user_id"] = "1"  # the old form: the id alone
    assert admin.get("/").status_code == 302
