"""Configuration: defaults, then instance/config.py, then OPENCX_* environment variables."""

import os
import re
import stat
from pathlib import Path

import pytest
from conftest import connect_args, csrf_token, login
from sqlalchemy import create_engine, text

from opencx_bridge import config, create_app
from opencx_bridge.extensions import db
from opencx_bridge.store import users


@pytest.fixture
def instance(tmp_path, monkeypatch) -> Path:
    """A clean environment: no OPENCX_* from the caller's shell, the instance folder in tmp."""
    for name in list(os.environ):
        if name.startswith("OPENCX_"):
            monkeypatch.delenv(name)
    folder = tmp_path / "instance"
    monkeypatch.setenv("OPENCX_INSTANCE_PATH", str(folder))
    return folder


@pytest.fixture
def database(database_url, monkeypatch) -> str:
    """This test's migrated database, given to the app through OPENCX_DATABASE_URL."""
    monkeypatch.setenv("OPENCX_DATABASE_URL", database_url)
    return database_url


@pytest.fixture
def make_app(instance, database):
    """create_app as a fresh process would call it; every app's engine is disposed after."""
    made = []

    def make(**config):
        app = create_app({"TESTING": True, "WORKER": False, **config})
        made.append(app)
        return app

    yield make
    for app in made:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def signed_in_browser(app, base_url: str):
    """An admin's browser that reaches the bridge at base_url."""
    with app.app_context():
        users.create("admin@example.com", "correct horse battery", "admin")
    browser = app.test_client()
    page = browser.get("/login", base_url=base_url).get_data(as_text=True)
    response = browser.post("/login", base_url=base_url, data={
        "email": "admin@example.com", "password": "correct horse battery",
        "csrf_token": csrf_token(page)})
    assert response.status_code == 302
    return browser


def write_instance_config(instance: Path, text: str) -> None:
    instance.mkdir(parents=True, exist_ok=True)
    (instance / "config.py").write_text(text)


# -- the secret key ------------------------------------------------------------------------------

def test_a_secret_key_is_generated_once_into_the_instance_folder(make_app, instance):
    app = make_app()
    key_file = instance / "secret_key"
    assert Path(app.instance_path) == instance.resolve()
    assert key_file.exists()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert app.config["SECRET_KEY"] == key_file.read_text()
    assert len(app.config["SECRET_KEY"]) >= 32


def test_the_generated_key_is_reused_by_the_next_start(make_app, instance):
    first = make_app().config["SECRET_KEY"]
    second = make_app().config["SECRET_KEY"]
    assert first == second
    assert stat.S_IMODE((instance / "secret_key").stat().st_mode) == 0o600


def test_a_restart_keeps_sessions_and_stored_secrets(make_app, standin, monkeypatch):
    monkeypatch.setenv("OPENCX_FRESHCHAT_API_BASE", standin.base_url)
    before = make_app()
    with before.app_context():
        users.create("admin@example.com", "correct horse battery", "admin")
    browser = before.test_client()
    assert login(browser, "admin@example.com", "correct horse battery").status_code == 302
    connected = before.test_cli_runner().invoke(args=connect_args(standin))
    assert connected.exit_code == 0, connected.output

    after = make_app()  # same instance folder and database, as after a reboot
    status = after.test_cli_runner().invoke(args=["freshchat", "status"])
    assert "connected: yes" in status.output
    [url] = re.findall(r"^webhook URL: (\S+)$", connected.output, flags=re.MULTILINE)
    assert f"webhook_url: {url}" in status.output
    cookie = browser.get_cookie("session")
    again = after.test_client()
    again.set_cookie("session", cookie.value)
    assert again.get("/").status_code == 200  # still signed in


def test_opencx_secret_key_is_used_and_nothing_is_written(make_app, instance, monkeypatch):
    monkeypatch.setenv("OPENCX_SECRET_KEY", "from-the-environment-0123456789")
    app = make_app()
    assert app.config["SECRET_KEY"] == "from-the-environment-0123456789"
    assert not (instance / "secret_key").exists()


# -- environment variables -----------------------------------------------------------------------

def test_opencx_database_url_is_the_database_used(make_app, database):
    app = make_app()
    assert app.config["DATABASE_URL"] == database
    with app.app_context():
        users.create("ada@example.com", "correct horse battery", "viewer")
    engine = create_engine(config.sqlalchemy_url(database))
    with engine.connect() as conn:
        rows = conn.execute(text('select email from "user"')).fetchall()
    engine.dispose()
    assert [tuple(row) for row in rows] == [("ada@example.com",)]


@pytest.mark.parametrize(("url", "expected"), [
    ("postgresql://u:p@db/opencx", "postgresql+psycopg://u:p@db/opencx"),
    ("postgres://u:p@db/opencx", "postgresql+psycopg://u:p@db/opencx"),
    ("postgresql+psycopg://u@db/x", "postgresql+psycopg://u@db/x"),
    ("sqlite:////srv/bridge.sqlite3", "sqlite:////srv/bridge.sqlite3"),
])
def test_a_postgresql_url_uses_the_installed_driver(url, expected):
    assert config.sqlalchemy_url(url) == expected


def test_without_a_database_url_sqlite_lives_in_the_instance_folder(
        make_app, instance, monkeypatch):
    monkeypatch.delenv("OPENCX_DATABASE_URL")
    app = make_app()
    path = instance.resolve() / "opencx_bridge.sqlite3"
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{path}"
    assert path.exists()  # created and migrated on start
    with app.app_context():
        assert users.count() == 0


def test_opencx_freshchat_api_base_is_where_freshchat_is_called(make_app, standin, monkeypatch):
    monkeypatch.setenv("OPENCX_FRESHCHAT_API_BASE", standin.base_url)
    app = make_app()
    assert app.config["FRESHCHAT_API_BASE"] == standin.base_url
    result = app.test_cli_runner().invoke(args=connect_args(standin))
    assert result.exit_code == 0, result.output
    assert standin.calls_to("GET", "/v2/accounts/configuration")


def test_opencx_public_url_drives_the_webhook_url(make_app, standin, monkeypatch):
    monkeypatch.setenv("OPENCX_PUBLIC_URL", "https://bridge.example.com/")
    monkeypatch.setenv("OPENCX_FRESHCHAT_API_BASE", standin.base_url)
    app = make_app()
    result = app.test_cli_runner().invoke(args=connect_args(standin))
    assert result.exit_code == 0, result.output
    assert re.search(r"^webhook URL: https://bridge\.example\.com/webhooks/freshchat/[\w-]{43,}$",
                     result.output, flags=re.MULTILINE)
    browser = signed_in_browser(app, "http://10.0.0.5:8080")
    page = browser.get("/settings/freshchat", base_url="http://10.0.0.5:8080").get_data(
        as_text=True)
    assert 'value="https://bridge.example.com/webhooks/freshchat/' in page
    assert "10.0.0.5" not in page


def test_without_a_public_url_the_page_uses_the_requests_host(make_app, standin, monkeypatch):
    monkeypatch.setenv("OPENCX_FRESHCHAT_API_BASE", standin.base_url)
    app = make_app()
    assert app.test_cli_runner().invoke(args=connect_args(standin)).exit_code == 0
    browser = signed_in_browser(app, "http://chat.acme.test:8080")
    page = browser.get("/settings/freshchat", base_url="http://chat.acme.test:8080").get_data(
        as_text=True)
    assert 'value="http://chat.acme.test:8080/webhooks/freshchat/' in page


# -- instance/config.py --------------------------------------------------------------------------

def test_instance_config_py_values_apply(make_app, instance):
    write_instance_config(instance, 'PUBLIC_URL = "https://from-file.example"\n'
                                    "FRESHCHAT_TIMEOUT = 3.5\n"
                                    'SECRET_KEY = "from-the-file-0123456789"\n')
    app = make_app()
    assert app.config["PUBLIC_URL"] == "https://from-file.example"
    assert app.config["FRESHCHAT_TIMEOUT"] == 3.5
    assert app.config["SECRET_KEY"] == "from-the-file-0123456789"
    assert not (instance / "secret_key").exists()


def test_the_environment_overrides_instance_config_py(make_app, instance, monkeypatch):
    write_instance_config(instance, 'PUBLIC_URL = "https://from-file.example"\n'
                                    "FRESHCHAT_TIMEOUT = 3.5\n")
    monkeypatch.setenv("OPENCX_PUBLIC_URL", "https://from-env.example")
    monkeypatch.setenv("OPENCX_FRESHCHAT_TIMEOUT", "7")
    app = make_app()
    assert app.config["PUBLIC_URL"] == "https://from-env.example"
    assert app.config["FRESHCHAT_TIMEOUT"] == 7


def test_defaults_without_any_configuration(make_app):
    app = make_app()
    assert app.config["PUBLIC_URL"] is None
    assert app.config["FRESHCHAT_API_BASE"] is None
    assert app.config["FRESHCHAT_TIMEOUT"] == 10.0
    assert app.config["AUTO_MIGRATE"] is True


@pytest.mark.parametrize("value", ["12345678901234567890", "true", "1e5", "[1, 2]"])
def test_an_opencx_secret_key_that_looks_like_json_is_still_text(make_app, monkeypatch, value):
    monkeypatch.setenv("OPENCX_SECRET_KEY", value)
    app = make_app()
    assert app.config["SECRET_KEY"] == value  # exactly as typed, not JSON-parsed
    assert app.test_client().get("/setup").status_code == 200


def test_the_pool_fits_the_worker_and_request_threads(instance, monkeypatch):
    monkeypatch.setenv("OPENCX_WORKER_THREADS", "6")
    config = {"TESTING": True, "WORKER": False, "AUTO_MIGRATE": False}
    app = create_app({**config, "DATABASE_URL": "postgresql://u:p@db.invalid/opencx"})
    assert app.config["SQLALCHEMY_ENGINE_OPTIONS"] == {
        "pool_size": 20, "max_overflow": 8, "pool_pre_ping": True}
    sqlite = create_app({**config, "DATABASE_URL": f"sqlite:///{instance / 'x.sqlite3'}"})
    assert sqlite.config["SQLALCHEMY_ENGINE_OPTIONS"] == {  # no pre-ping: no server to lose
        "pool_size": 20, "max_overflow": 8}
    for memory_url in ("sqlite://", "sqlite:///:memory:"):  # SQLAlchemy's own pool for it
        memory = create_app({**config, "DATABASE_URL": memory_url})
        assert memory.config["SQLALCHEMY_ENGINE_OPTIONS"] == {}
        with memory.app_context():
            assert db.session.execute(text("SELECT 1")).scalar() == 1
