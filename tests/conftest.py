"""Fixtures: an app on a fresh, really migrated database per test (SQLite, or PostgreSQL when
OPENCX_DATABASE_URL names one: see databases.py); the Freshchat stand-in; a logged-in admin;
a bridge connected to the stand-in."""

from __future__ import annotations

import re
from pathlib import Path

import databases
import pytest

from opencx_bridge import create_app
from opencx_bridge.extensions import db
from opencx_bridge.standin import Standin
from opencx_bridge.standin.seed import AI_EMAIL, seed

ADMIN_PASSWORD = "correct horse battery"


@pytest.fixture(scope="session", autouse=True)
def _drop_leftover_databases():
    yield
    databases.drop_all()


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory) -> str:
    """Run the real migrations once; each test gets a copy of the result."""
    url = databases.template_url(tmp_path_factory.mktemp("template"))
    app = create_app({"TESTING": True, "WORKER": False, "SECRET_KEY": "template",
                      "DATABASE_URL": url})
    with app.app_context():
        db.engine.dispose()
    return url


@pytest.fixture
def database_url(tmp_path, migrated_database):
    """This test's own migrated database."""
    url = databases.clone(migrated_database, tmp_path)
    yield url
    databases.drop(url)


@pytest.fixture
def ctx(app):
    """Inside the app's context: for tests that call the database-using modules directly."""
    with app.app_context():
        yield


@pytest.fixture
def standin():
    """A running Freshchat stand-in with ``admin`` and ``ai_agent`` seeded."""
    with seed(Standin()) as st:
        yield st


@pytest.fixture
def app_config() -> dict:
    """Override in a module to change the configuration its app starts with."""
    return {}


@pytest.fixture
def app(tmp_path, monkeypatch, database_url, app_config):
    instance = tmp_path / "instance"
    monkeypatch.setenv("OPENCX_INSTANCE_PATH", str(instance))
    config = {"TESTING": True, "WORKER": False, "SECRET_KEY": "test-secret",
              "DATABASE_URL": database_url,
              "FRESHCHAT_RATE_WINDOW_SECONDS": 1.0,  # pacing tests set their own limits
              "FRESHCHAT_CHECK_EVERY_SECONDS": 0,  # its own tests ask when they mean to
              **app_config}
    app = create_app(config)
    yield app
    running = app.extensions.get("opencx_worker")
    if running is not None:
        running.stop()
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def quick_password_hashes(monkeypatch):
    """test_store_users.py checks the real hashing; one cheap round keeps other modules fast."""
    from functools import partial

    from werkzeug.security import generate_password_hash

    from opencx_bridge.store import users

    monkeypatch.setattr(users, "generate_password_hash",
                        partial(generate_password_hash, method="pbkdf2:sha256:1"))


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, "page has no csrf_token field"
    return match.group(1)


def login(client, email: str, password: str = ADMIN_PASSWORD):
    page = client.get("/login").get_data(as_text=True)
    return client.post("/login", data={"email": email, "password": password,
                                       "csrf_token": csrf_token(page)})


@pytest.fixture
def admin(app, client):
    """A signed-in admin in `client`."""
    from opencx_bridge.store import users

    with app.app_context():
        users.create("admin@example.com", ADMIN_PASSWORD, "admin")
    response = login(client, "admin@example.com")
    assert response.status_code == 302
    return client


def connect_args(standin, **overrides) -> list[str]:
    options = {"--domain": "acme.freshchat.com", "--token": standin.token,
               "--agent-email": AI_EMAIL, **overrides}
    args = ["freshchat", "connect"]
    for key, value in options.items():
        args += [key, value]
    return [*args, "--auto-handle-all"]


@pytest.fixture
def connected(app, runner, standin):
    """The bridge connected to the stand-in (auto handle all), webhooks signed."""
    app.config["FRESHCHAT_API_BASE"] = standin.base_url
    key_file = Path(app.instance_path) / "freshchat_public_key.txt"
    key_file.write_text(standin.public_key_text)
    result = runner.invoke(args=connect_args(standin, **{"--public-key-file": str(key_file)}))
    assert result.exit_code == 0, result.output
    url = next(line.split(": ", 1)[1] for line in result.output.splitlines()
               if line.startswith("webhook URL: "))
    return url
