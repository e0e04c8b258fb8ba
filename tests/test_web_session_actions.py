"""The session page's admin actions: hand off now, resolve, retry a failed call. POST with
the CSRF token, admins only; and the access token never shows on any page."""

import re

import pytest
from conftest import csrf_token, login
from dashboard_data import add_call, add_session, page
from flows import Flow

from opencx_bridge.extensions import db
from opencx_bridge.store import users
from opencx_bridge.store.models import ChatSession, OutboxItem

# actions ----------------------------------------------------------------------------------

@pytest.fixture
def flow(app, client, standin, connected):
    return Flow(app, client, standin, connected)


@pytest.fixture
def answered(app, flow):
    cid = flow.conversation(email="casey@example.com")
    flow.customer_says(cid, "Where is my order?")
    flow.run()
    with app.app_context():
        return db.session.scalar(db.select(ChatSession.id)
                                 .where(ChatSession.conversation_id == cid))


def status_of(app, session_id: int) -> str:
    with app.app_context():
        return db.session.get(ChatSession, session_id).status


def post_action(client, session_id: int, action: str, with_token: bool = True):
    html = page(client, f"/sessions/{session_id}")
    data = {"csrf_token": csrf_token(html)} if with_token else {}
    return client.post(f"/sessions/{session_id}/{action}", data=data)


def test_an_admin_hands_off_from_the_page(app, admin, flow, answered):
    html = page(admin, f"/sessions/{answered}")
    assert 'id="action-handoff"' in html and 'id="action-resolve"' in html
    response = post_action(admin, answered, "handoff")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/sessions/{answered}")
    assert status_of(app, answered) == "handed_off"
    after = page(admin, f"/sessions/{answered}")
    assert "Handed off: the customer is told a person will answer" in after
    assert "handed off from the dashboard by admin@example.com" in after
    assert 'id="action-handoff"' not in after and 'id="action-resolve"' in after


def test_an_admin_resolves_from_the_page(app, admin, flow, answered):
    assert post_action(admin, answered, "resolve").status_code == 303
    assert status_of(app, answered) == "resolved"
    after = page(admin, f"/sessions/{answered}")
    assert "Resolved: Freshchat is told to resolve the conversation." in after
    assert 'id="action-resolve"' not in after
    assert post_action(admin, answered, "resolve").status_code == 303
    assert "Nothing was done: session #" in page(admin, f"/sessions/{answered}")


def test_an_admin_retries_a_failed_call(app, admin, flow, answered):
    with app.app_context():
        cid = db.session.get(ChatSession, answered).conversation_id
    item_id = add_call(app, cid, "resolve", "failed", attempts=5, last_error="boom")
    html = page(admin, f"/sessions/{answered}")
    response = admin.post(f"/sessions/{answered}/calls/{item_id}/retry",
                          data={"csrf_token": csrf_token(html)})
    assert response.status_code == 303
    with app.app_context():
        assert db.session.get(OutboxItem, item_id).status == "pending"
    assert f"Call #{item_id} is queued to be sent again." in page(admin, f"/sessions/{answered}")


def test_an_admin_returns_a_handed_off_session_to_the_ai(app, admin, flow, answered):
    post_action(admin, answered, "handoff")
    flow.run()
    html = page(admin, f"/sessions/{answered}")
    assert 'id="action-return-to-ai"' in html and 'id="action-handoff"' not in html
    response = post_action(admin, answered, "return-to-ai")
    assert response.status_code == 303
    assert "Returned to the AI" in page(admin, f"/sessions/{answered}")
    flow.run()
    assert status_of(app, answered) == "open"
    assert 'id="action-handoff"' in page(admin, f"/sessions/{answered}")


def test_returning_a_session_the_ai_has_says_nothing_was_done(app, admin, flow, answered):
    post_action(admin, answered, "return-to-ai")
    assert "Nothing was done" in page(admin, f"/sessions/{answered}")
    assert status_of(app, answered) == "open"


@pytest.mark.parametrize("action", ["handoff", "resolve", "calls/1/retry"])
def test_an_action_without_the_csrf_token_is_refused(app, admin, flow, answered, action):
    response = post_action(admin, answered, action, with_token=False)
    assert response.status_code == 400
    assert status_of(app, answered) == "open"


@pytest.mark.parametrize("action", ["handoff", "resolve", "calls/1/retry"])
def test_a_viewer_cannot_act(app, client, flow, answered, action):
    with app.app_context():
        users.create("viewer@example.com", "correct horse battery", "viewer")
    login(client, "viewer@example.com")
    html = page(client, f"/sessions/{answered}")
    assert 'id="action-handoff"' not in html and "signed in as a viewer" in html
    response = client.post(f"/sessions/{answered}/{action}", data={"csrf_token": csrf_token(html)})
    assert response.status_code == 403
    assert status_of(app, answered) == "open"


def test_an_action_without_login_goes_to_the_login_page(app, client):
    session_id = add_session(app, "conv-anonymous")
    with app.app_context():
        users.create("admin@example.com", "correct horse battery", "admin")
    response = client.post(f"/sessions/{session_id}/resolve")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert status_of(app, session_id) == "open"


def test_without_a_connection_the_buttons_are_disabled_and_say_why(app, admin):
    session_id = add_session(app, "conv-offline")
    html = page(admin, f"/sessions/{session_id}")
    assert re.search(r'id="action-handoff" disabled', html)
    assert "Connect Freshchat first" in html
    post_action(admin, session_id, "handoff")
    assert "Nothing was done: not connected to Freshchat" in page(admin, f"/sessions/{session_id}")
    assert status_of(app, session_id) == "open"


def test_the_access_token_never_appears(app, admin, flow, standin, answered):
    post_action(admin, answered, "handoff")
    flow.run()
    for url in (f"/sessions/{answered}", f"/sessions/{answered}/live",
                f"/sessions/{answered}/bundle.json", "/", "/inbox/rows"):
        assert standin.token not in page(admin, url), url
