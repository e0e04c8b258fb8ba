"""The AI settings page and the audit trail."""

import pytest
from conftest import csrf_token, login

from opencx_bridge.extensions import db
from opencx_bridge.store import settings, users


def form_values(client) -> dict:
    page = client.get("/settings/ai").get_data(as_text=True)
    data = {"csrf_token": csrf_token(page)}
    with client.application.app_context():
        for key, value in settings.all_values().items():
            if isinstance(value, bool):
                if value:
                    data[key] = "true"
            elif not settings.SPECS[key].secret:
                data[key] = str(value)
    return data


def test_the_page_lists_every_setting(admin):
    html = admin.get("/settings/ai").get_data(as_text=True)
    for key in settings.SPECS:
        assert f'name="{key}"' in html


def test_saving_changes_values_and_audits_them(app, admin):
    data = form_values(admin)
    data["handoff_confidence_threshold"] = "0.7"
    data["office_hours"] = "mon-fri 09:00-17:00"
    response = admin.post("/settings/ai", data=data)
    assert response.status_code == 302
    with app.app_context():
        assert settings.get("handoff_confidence_threshold") == 0.7
        changes = {(c.key, c.old, c.new, c.who) for c in settings.recent_changes()}
    assert ("handoff_confidence_threshold", "0.6", "0.7", "admin@example.com") in changes
    audit = admin.get("/settings/audit").get_data(as_text=True)
    assert "handoff_confidence_threshold" in audit and "admin@example.com" in audit


def test_one_bad_field_saves_nothing_and_says_which(app, admin):
    data = form_values(admin)
    data["handoff_confidence_threshold"] = "0.9"
    data["office_hours"] = "someday 25:00-26:00"
    response = admin.post("/settings/ai", data=data)
    assert response.status_code == 422
    assert "Nothing was saved" in response.get_data(as_text=True)
    with app.app_context():
        assert settings.get("handoff_confidence_threshold") == 0.6


def test_the_api_key_is_stored_encrypted_and_never_shown(app, admin):
    data = form_values(admin)
    data["openai_api_key"] = "sk-very-secret-key-123"
    assert admin.post("/settings/ai", data=data).status_code == 302
    for page in ("/settings/ai", "/settings/audit"):
        assert "sk-very-secret-key-123" not in admin.get(page).get_data(as_text=True)
    with app.app_context():
        from opencx_bridge.store.models import Setting

        stored = db.session.get(Setting, "openai_api_key").value
        assert "sk-very-secret" not in stored
        assert settings.get("openai_api_key") == "sk-very-secret-key-123"
    data = form_values(admin)  # a blank key field keeps the saved key
    assert admin.post("/settings/ai", data=data).status_code == 302
    with app.app_context():
        assert settings.get("openai_api_key") == "sk-very-secret-key-123"


def test_without_a_csrf_token_nothing_changes(app, admin):
    data = form_values(admin)
    del data["csrf_token"]
    data["handoff_confidence_threshold"] = "0.9"
    assert admin.post("/settings/ai", data=data).status_code == 400


@pytest.fixture
def viewer(app, client):
    from conftest import login

    with app.app_context():
        users.create("viewer@example.com", "viewer password 1", "viewer")
    login(client, "viewer@example.com", "viewer password 1")
    return client


def test_a_viewer_reads_but_cannot_save(viewer):
    assert viewer.get("/settings/ai").status_code == 200
    assert viewer.post("/settings/ai", data=form_values(viewer)).status_code == 403


def test_after_the_secret_key_changed_the_page_opens_and_takes_a_new_key(app, admin):
    data = form_values(admin)
    data["openai_api_key"] = "sk-old-key-0000"
    admin.post("/settings/ai", data=data)
    app.config["SECRET_KEY"] = "another secret key"  # the saved key is now unreadable
    login(admin, "admin@example.com")  # the old session cookie is no longer valid either
    page = admin.get("/settings/ai")
    assert page.status_code == 200
    assert "Saved: ••••••••" in page.get_data(as_text=True)
    data = form_values_without_secrets(admin)
    data["openai_api_key"] = "sk-new-key-1111"
    assert admin.post("/settings/ai", data=data).status_code == 302
    with app.app_context():
        assert settings.get("openai_api_key") == "sk-new-key-1111"


def form_values_without_secrets(client) -> dict:
    page = client.get("/settings/ai").get_data(as_text=True)
    data = {"csrf_token": csrf_token(page)}
    with client.application.app_context():
        for key, spec in settings.SPECS.items():
            if spec.secret:
                continue
            value = settings.get(key)
            if isinstance(value, bool):
                if value:
                    data[key] = "true"
            else:
                data[key] = str(value)
    return data
