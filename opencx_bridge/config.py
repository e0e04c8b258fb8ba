"""Configuration: defaults, then instance/config.py, then OPENCX_* environment variables.

Every key here is documented in the README's configuration table (a test checks it).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import Flask
from sqlalchemy.engine import make_url

DEFAULTS: dict[str, object] = {
    "SECRET_KEY": None,  # generated once into the instance folder when not set
    "DATABASE_URL": None,  # default: SQLite file in the instance folder
    "FRESHCHAT_API_BASE": None,  # replaces https://{domain}/v2 (tests, proxies, the sandbox)
    "PUBLIC_URL": None,  # external base URL for the webhook URL; else the request's host
    "WORKER": True,  # run the worker threads inside the web process
    "WORKER_THREADS": 4,  # conversations processed in parallel
    "MAX_WEBHOOK_BYTES": 1024 * 1024,  # larger webhook bodies get 413
    # Any other request (the largest is a CSV for `kb eval` in the dashboard, up to 5 MB):
    # Werkzeug refuses more with 413 before a form is parsed, chunked uploads included.
    "MAX_CONTENT_LENGTH": 6 * 1024 * 1024,
    "MAX_CONNECTIONS": 500,  # open client connections `serve` keeps (waitress's own: 100)
    "CLIENT_TIMEOUT_SECONDS": 30,  # a connection silent this long is closed
    "TRUSTED_PROXIES": 0,  # reverse proxies in front: their X-Forwarded-* headers are used
    "AUTO_MIGRATE": True,  # upgrade the database schema on start
    "FRESHCHAT_TIMEOUT": 10.0,  # seconds per Freshchat call
    "FRESHCHAT_RATE_WINDOW_SECONDS": 60.0,  # the plan limit's window; shorter only in tests
    "FRESHCHAT_CHECK_EVERY_SECONDS": 300,  # the worker asks Freshchat for diagnostics (0 = never)
    "LOG_LEVEL": "INFO",
}

SECRET_KEY_FILE = "secret_key"
WHOLE_NUMBERS = {"MAX_CONNECTIONS": 1, "CLIENT_TIMEOUT_SECONDS": 1, "TRUSTED_PROXIES": 0,
                 "FRESHCHAT_CHECK_EVERY_SECONDS": 0}


class ConfigError(ValueError):
    """A configuration value the bridge cannot start with; the message says which and why."""


def _whole_number(key: str, value: object, minimum: int) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"OPENCX_{key} must be a whole number of at least {minimum}, "
                          f"not {value!r}")
    return value
TEXT_KEYS = ("SECRET_KEY", "DATABASE_URL", "FRESHCHAT_API_BASE", "PUBLIC_URL", "LOG_LEVEL")


def instance_path_from_env() -> str | None:
    """OPENCX_INSTANCE_PATH has to be known before the Flask object exists."""
    path = os.environ.get("OPENCX_INSTANCE_PATH")
    return str(Path(path).expanduser().resolve()) if path else None


def load(app: Flask, test_config: dict | None) -> None:
    app.config.from_mapping(DEFAULTS)
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("OPENCX")
    if test_config:
        app.config.from_mapping(test_config)
    for key in TEXT_KEYS:  # from_prefixed_env parses JSON (123 → int): keep what was typed
        raw = os.environ.get(f"OPENCX_{key}")
        if raw is not None and not (test_config and key in test_config):
            app.config[key] = raw
    for key, minimum in WHOLE_NUMBERS.items():
        app.config[key] = _whole_number(key, app.config[key], minimum)
    _private_folder(Path(app.instance_path))
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = _instance_secret_key(Path(app.instance_path))
    if not app.config["DATABASE_URL"]:
        db_file = Path(app.instance_path) / "opencx_bridge.sqlite3"
        app.config["DATABASE_URL"] = f"sqlite:///{db_file}"
    app.config["SQLALCHEMY_DATABASE_URI"] = sqlalchemy_url(app.config["DATABASE_URL"])
    # Cookies the browser keeps to itself and does not send on cross-site posts.
    for key in ("SESSION_COOKIE_SAMESITE", "REMEMBER_COOKIE_SAMESITE"):
        app.config[key] = app.config.get(key) or "Lax"
    options = app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {})
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    server = url.get_backend_name() == "postgresql"
    sqlite_file = url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:")
    if server or sqlite_file:  # a memory database keeps SQLAlchemy's own single-connection pool
        for key, value in pool_options(int(app.config["WORKER_THREADS"]), server).items():
            options.setdefault(key, value)


def sqlalchemy_url(url: str) -> str:
    """postgresql:// (or Heroku-style postgres://) means psycopg 3, the driver we install;
    SQLAlchemy alone would pick psycopg2 for a bare postgresql:// URL."""
    for scheme in ("postgresql://", "postgres://"):
        if url.startswith(scheme):
            return "postgresql+psycopg://" + url[len(scheme):]
    return url


def pool_options(worker_threads: int, server: bool) -> dict:
    """Connections for one process: a worker thread may hold two at once (its transaction
    and a rate-budget spend), a request thread one (waitress runs 8). Pre-ping, on a server
    database only: a server restart must not surface as errors on stale connections."""
    options = {"pool_size": 2 * worker_threads + 8, "max_overflow": 8}
    return {**options, "pool_pre_ping": True} if server else options


def _private_folder(path: Path) -> None:
    """The instance folder holds the database and the secret key: owner-only when we make
    it, whatever the umask."""
    if not path.exists():
        path.mkdir(parents=True, mode=0o700)
        path.chmod(0o700)


def _instance_secret_key(instance: Path) -> str:
    """Read the generated key, or create it with owner-only permissions."""
    path = instance / SECRET_KEY_FILE
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key
