"""The Freshchat settings page: Test & Save, the webhook URL, disconnect, who may change what."""

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from bridge_process import free_port
from conftest import ADMIN_PASSWORD, csrf_token, login
from markupsafe import escape

from opencx_bridge import create_app
from opencx_bridge.extensions import db
from opencx_bridge.freshchat.account import TOKEN_FORBIDDEN, TOKEN_REJECTED
from opencx_bridge.standin.seed import AI_EMAIL
from opencx_bridge.store import integration, secrets_box, users
from opencx_bridge.web.settings import UNREADABLE_TOKEN, UNREADABLE_URL

PAGE = "/settings/freshchat"
PAGE_HOST = "http://localhost"  # what the test client's requests carry as their host
SECRET = "fc-api-SECRET-9f8e7d6c5b4a"  # distinctive, so a leak into any page is unmistakable


pytestmark = pytest.mark.usefixtures("quick_password_hashes")  # see conftest


@pytest.fixture
def freshchat(app, standin):
    """The stand-in, with the bridge pointed at it and a distinctive API token."""
    app.config["FRESHCHAT_API_BASE"] = standin.base_url
    standin.rotate_token(SECRET)
    return standin


def save(client, **fields):
    """Fill in the settings page and press Test & Save (auto handle all unless told)."""
    token = csrf_token(client.get(PAGE).get_data(as_text=True))
    data = {"domain": "acme.freshchat.com", "access_token": SECRET,
            "default_agent_email": AI_EMAIL, "auto_handle_all": "y",
            "webhook_public_key": "", "csrf_token": token, **fields}
    return client.post(PAGE, data={k: v for k, v in data.items() if v is not None})


def shown_url(client) -> str | None:
    match = re.search(r'id="webhook-url" value="([^"]+)"', client.get(PAGE).get_data(as_text=True))
    return match.group(1) if match else None


def stored(app) -> dict:
    with app.app_context():
        row = integration.get()
        token = integration.webhook_token(row)
        return {
            "domain": row.domain,
            "token": secrets_box.decrypt(row.access_token_enc) if row.access_token_enc else None,
            "agent": (row.default_agent_id, row.default_agent_email, row.default_agent_name),
            "auto_handle_all": row.auto_handle_all,
            "webhook_url": f"{PAGE_HOST}{integration.WEBHOOK_PATH}{token}" if token else None,
        }


@pytest.fixture
def saved(app, admin, freshchat):
    """A good connection saved through the page; returns what was stored."""
    response = save(admin)
    assert response.status_code == 302, response.get_data(as_text=True)
    return stored(app)


WEBHOOK_BODY = (Path(__file__).parent / "fixtures" / "freshchat" / "message_create_user.json"
                ).read_bytes()


def deliver(client, path):
    return client.post(path, data=WEBHOOK_BODY, content_type="application/json")


# -- Test & Save succeeds ----------------------------------------------------------------------

def test_the_empty_page_explains_what_to_do(admin):
    html = admin.get(PAGE).get_data(as_text=True)
    assert "Not connected yet" in html
    assert 'id="webhook-url"' not in html
    for name in ("domain", "access_token", "default_agent_email", "auto_handle_all",
                 "webhook_public_key", "csrf_token"):
        assert f'name="{name}"' in html


def test_test_and_save_shows_the_agent_and_the_webhook_url(app, admin, freshchat):
    response = save(admin)
    assert response.status_code == 302
    assert response.headers["Location"] == PAGE
    html = admin.get(PAGE).get_data(as_text=True)
    assert "Connected. The AI answers as Aiden Bot." in html
    assert "<strong>Aiden Bot</strong>" in html
    url = shown_url(admin)
    assert re.fullmatch(r"http://localhost/webhooks/freshchat/[A-Za-z0-9_-]{43,}", url)
    for event in ("Message Created", "Conversation Assignment", "Conversation Resolved",
                  "Conversation Reopened"):
        assert event in html
    assert 'data-copy="#webhook-url"' in html
    assert stored(app)["agent"] == (freshchat.ai_agent["id"], AI_EMAIL, "Aiden Bot")
    assert stored(app)["webhook_url"] == url


def test_the_agents_avatar_is_shown(app, admin, freshchat):
    freshchat.add_agent("avatar@acme.test", "Ava", "Tar",
                        avatar_url="https://cdn.example/ava.png")
    save(admin, default_agent_email="Avatar@ACME.test")
    html = admin.get(PAGE).get_data(as_text=True)
    assert '<img src="https://cdn.example/ava.png"' in html
    assert "<strong>Ava Tar</strong>" in html


def test_a_pasted_url_is_stored_as_the_bare_domain(app, admin, freshchat):
    assert save(admin, domain="https://acme.freshchat.com/").status_code == 302
    assert stored(app)["domain"] == "acme.freshchat.com"
    assert 'value="acme.freshchat.com"' in admin.get(PAGE).get_data(as_text=True)


def test_assigned_only_is_stored_when_the_box_is_unticked(app, admin, freshchat):
    assert save(admin, auto_handle_all=None).status_code == 302
    assert stored(app)["auto_handle_all"] is False


def test_saving_again_keeps_the_webhook_url(app, admin, saved):
    assert save(admin, auto_handle_all=None).status_code == 302
    assert stored(app)["webhook_url"] == saved["webhook_url"]
    assert shown_url(admin) == saved["webhook_url"]


def test_a_blank_token_keeps_the_saved_one(app, admin, saved, freshchat):
    freshchat.calls.clear()
    response = save(admin, access_token="", auto_handle_all=None)
    assert response.status_code == 302
    assert stored(app)["token"] == SECRET
    assert stored(app)["auto_handle_all"] is False
    assert shown_url(admin) == saved["webhook_url"]
    assert {call["token"] for call in freshchat.calls} == {SECRET}  # tested with the saved one


def test_a_blank_token_with_nothing_saved_names_the_token_field(app, admin, freshchat):
    response = save(admin, access_token="")
    assert response.status_code == 422
    assert "access token: paste the API token from Freshchat" in response.get_data(as_text=True)
    assert stored(app)["domain"] is None


# -- Test & Save fails: its own message, nothing saved -----------------------------------------

def unreachable(app, standin):
    app.config["FRESHCHAT_API_BASE"] = f"http://127.0.0.1:{free_port()}/v2"
    return {}


def revoked(app, standin):
    standin.rotate_token("a-brand-new-token")  # Freshchat: a new token invalidates the old one
    return {}


def forbidden(app, standin):
    standin.add_token("t2", forbidden=True)
    return {"access_token": "t2"}


FAILURES = {
    "revoked token": (revoked, str(escape(TOKEN_REJECTED)), "access_token"),
    "forbidden token": (forbidden, str(escape(TOKEN_FORBIDDEN)), "access_token"),
    "unknown agent": (lambda app, st: {"default_agent_email": "nobody@acme.test"},
                      "no Freshchat agent has the email nobody@acme.test", "default_agent_email"),
    "domain with a path": (lambda app, st: {"domain": "acme.freshchat.com/a/123"},
                           "expected a host name like yourcompany.freshchat.com", "domain"),
    "unreachable host": (unreachable, "could not reach https://acme.freshchat.com", "domain"),
}


@pytest.mark.parametrize("case", FAILURES)
def test_a_failed_test_and_save_keeps_the_earlier_settings(app, admin, saved, freshchat, case):
    arrange, message, field = FAILURES[case]
    changes = arrange(app, freshchat)
    response = save(admin, auto_handle_all=None, **changes)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html
    assert f'id="{field}-error"' in html  # shown next to the field at fault
    assert "Nothing was saved" in html
    if case == "domain with a path":
        assert "domain:" in html
    app.config["FRESHCHAT_API_BASE"] = freshchat.base_url
    assert stored(app) == saved
    assert shown_url(admin) == saved["webhook_url"]
    page = admin.get(PAGE).get_data(as_text=True)
    assert "<strong>Aiden Bot</strong>" in page
    assert "Nothing was saved" not in page  # the message was shown once, with the form


def test_each_failure_has_its_own_message():
    messages = [message for _, message, _ in FAILURES.values()]
    assert len(set(messages)) == len(messages)


def test_a_failure_before_any_connection_saves_nothing(app, admin, freshchat):
    assert save(admin, default_agent_email="nobody@acme.test").status_code == 422
    assert stored(app)["domain"] is None
    assert shown_url(admin) is None


def test_a_garbage_public_key_is_refused_without_calling_freshchat(app, admin, saved, freshchat):
    freshchat.calls.clear()
    response = save(admin, webhook_public_key="-----BEGIN PUBLIC KEY----- garbage")
    assert response.status_code == 422
    assert 'id="webhook_public_key-error"' in response.get_data(as_text=True)
    assert freshchat.calls == []
    assert stored(app) == saved


# -- the token stays secret --------------------------------------------------------------------

def test_the_token_never_appears_in_any_page(app, admin, saved, freshchat):
    encrypted = None
    with app.app_context():
        encrypted = integration.get().access_token_enc
    pages = {
        "settings": admin.get(PAGE),
        "inbox": admin.get("/"),
        "not found": admin.get("/sessions/does-not-exist"),
        "bad request": admin.get("/?status=nonsense"),
        "method not allowed": admin.get("/logout"),
        "csrf rejected": admin.post(PAGE, data={"domain": "x.freshchat.com"}),
        "blank re-save": admin.get(save(admin, access_token="").headers["Location"]),
        "failed save": save(admin, default_agent_email="nobody@acme.test"),
        "failed save, token retyped": save(admin, domain="acme.freshchat.com/x"),
    }
    for name, response in pages.items():
        html = response.get_data(as_text=True)
        assert "<html" in html, name
        assert SECRET not in html, name
        assert encrypted not in html, name
    assert "(saved)" in pages["settings"].get_data(as_text=True)  # masked, not hidden


def test_the_token_is_stored_encrypted(app, saved):
    with app.app_context():
        assert SECRET not in integration.get().access_token_enc


# -- CSRF and roles ----------------------------------------------------------------------------

def test_a_post_without_csrf_token_is_refused_and_changes_nothing(app, admin, saved, freshchat):
    response = admin.post(PAGE, data={"domain": "other.freshchat.com", "access_token": SECRET,
                                      "default_agent_email": freshchat.admin["email"]})
    assert response.status_code == 400
    assert "Form rejected" in response.get_data(as_text=True)
    assert stored(app) == saved


def test_a_post_with_a_forged_csrf_token_is_refused(app, admin, saved):
    response = save(admin, csrf_token="forged", domain="other.freshchat.com")
    assert response.status_code == 400
    assert stored(app) == saved


def test_a_disconnect_without_csrf_token_is_refused(app, admin, saved):
    assert admin.post(PAGE + "/disconnect").status_code == 400
    assert stored(app) == saved


@pytest.fixture
def viewer(app):
    with app.app_context():
        users.create("viewer@example.com", ADMIN_PASSWORD, "viewer")
    client = app.test_client()
    assert login(client, "viewer@example.com").status_code == 302
    return client


def test_a_viewer_can_look_but_not_change(app, saved, viewer):
    page = viewer.get(PAGE)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    token_part = saved["webhook_url"].rsplit("/", 1)[1]
    assert token_part not in html  # the URL's secret is for admins
    assert "/webhooks/freshchat/&lt;redacted&gt;" in html
    assert 'data-copy="#webhook-url"' not in html
    token = csrf_token(page.get_data(as_text=True))
    response = viewer.post(PAGE, data={"csrf_token": token, "domain": "other.freshchat.com",
                                       "access_token": SECRET, "default_agent_email": AI_EMAIL})
    assert response.status_code == 403
    assert "Only admins can change settings" in response.get_data(as_text=True)
    assert viewer.post(PAGE + "/disconnect", data={"csrf_token": token}).status_code == 403
    assert stored(app) == saved


def test_an_admin_sees_the_whole_webhook_url_with_a_copy_button(saved, admin):
    html = admin.get(PAGE).get_data(as_text=True)
    assert saved["webhook_url"] in html
    assert 'data-copy="#webhook-url"' in html


# -- disconnect --------------------------------------------------------------------------------

def disconnect(client):
    token = csrf_token(client.get(PAGE).get_data(as_text=True))
    return client.post(PAGE + "/disconnect", data={"csrf_token": token})


def test_disconnect_revokes_the_url_and_a_new_connect_makes_a_new_one(app, admin, saved):
    old_path = urlsplit(saved["webhook_url"]).path
    assert deliver(admin, old_path).status_code == 200

    response = disconnect(admin)
    assert response.status_code == 302
    html = admin.get(PAGE).get_data(as_text=True)
    assert "Disconnected. The old webhook URL now answers 404." in html
    assert "Not connected yet" in html
    after = stored(app)
    assert after["domain"] is None and after["token"] is None and after["webhook_url"] is None
    assert deliver(admin, old_path).status_code == 404

    assert save(admin).status_code == 302
    new_url = shown_url(admin)
    assert new_url and new_url != saved["webhook_url"]
    assert deliver(admin, old_path).status_code == 404


def test_disconnecting_twice_is_harmless(app, admin, saved):
    disconnect(admin)
    response = disconnect(admin)
    assert response.status_code == 302
    assert stored(app)["domain"] is None


# -- after SECRET_KEY changed (e.g. a lost instance folder) ---------------------------------------

@pytest.fixture
def rekeyed(app, saved, freshchat):
    """The same database opened by an app whose SECRET_KEY is different."""
    other = create_app({"TESTING": True, "WORKER": False, "SECRET_KEY": "a different key",
                        "DATABASE_URL": app.config["DATABASE_URL"],
                        "FRESHCHAT_API_BASE": freshchat.base_url})
    yield other
    with other.app_context():
        db.session.remove()
        db.engine.dispose()


def test_the_page_still_opens_and_says_how_to_get_a_new_url(rekeyed, saved):
    browser = rekeyed.test_client()
    assert login(browser, "admin@example.com").status_code == 302
    page = browser.get(PAGE)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert str(escape(UNREADABLE_URL)) in html
    assert 'id="webhook-url"' not in html

    response = save(browser, access_token="")
    assert response.status_code == 422
    assert str(escape(UNREADABLE_TOKEN)) in response.get_data(as_text=True)

    assert disconnect(browser).status_code == 302
    assert deliver(browser, urlsplit(saved["webhook_url"]).path).status_code == 404
    assert save(browser).status_code == 302
    new_url = shown_url(browser)
    assert new_url and new_url != saved["webhook_url"]
    assert deliver(browser, urlsplit(new_url).path).status_code == 200
