"""The app factory: configuration, extensions, blueprints, CLI, schema, worker."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from opencx_bridge import config
from opencx_bridge.extensions import csrf, db, htmx, login_manager, migrate
from opencx_bridge.store import postgres, sqlite
from opencx_bridge.store.integration import WEBHOOK_PATH, redact_webhook_tokens

PROJECT_ROOT = Path(__file__).resolve().parent.parent
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
LOGGERS_WITH_PATHS = ("opencx_bridge", "waitress", "werkzeug")  # they log request paths


class RedactWebhookTokens(logging.Filter):
    """No webhook token in any log line: "Exception on /webhooks/freshchat/<redacted>"."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a badly formatted call: logging says so itself
            return True
        if WEBHOOK_PATH in message:
            record.msg, record.args = redact_webhook_tokens(message), None
        return True


_REDACT = RedactWebhookTokens()  # one instance: addFilter ignores it the second time


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(
        "opencx_bridge",  # the package: the app's name and logger stay "opencx_bridge"
        instance_path=config.instance_path_from_env(),
        instance_relative_config=True,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    config.load(app, test_config)
    proxies = int(app.config["TRUSTED_PROXIES"])
    if proxies > 0:  # the client's address, scheme and host, as the proxies saw them
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies,
                                x_port=proxies, x_prefix=proxies)
    logging.basicConfig(level=app.config["LOG_LEVEL"], format=LOG_FORMAT)
    # On the loggers (what they log themselves) and on the handlers (their children's and
    # libraries' records too, such as an exception text that carries the URL).
    for log in (*map(logging.getLogger, LOGGERS_WITH_PATHS), *logging.getLogger().handlers):
        log.addFilter(_REDACT)

    db.init_app(app)
    with app.app_context():
        sqlite.configure(db.engine)
        postgres.configure(db.engine)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"))
    htmx.init_app(app)
    login_manager.init_app(app)

    from opencx_bridge import cli, web
    from opencx_bridge.worker import runner

    web.init_app(app)  # its login guard runs before CSRFProtect's check, registered next
    csrf.init_app(app)
    cli.init_app(app)
    if app.config["AUTO_MIGRATE"]:
        from opencx_bridge.store.schema import upgrade_to_head

        upgrade_to_head(app)
    runner.init_app(app)
    if app.config["WORKER"] and _web_process():
        runner.start(app)
    return app


def _web_process() -> bool:
    """True unless a `flask` command other than `run` loaded us.

    `serve` and `worker` start the worker themselves; `users list` must not process events.
    """
    if os.environ.get("FLASK_RUN_FROM_CLI") != "true":
        return True
    return _cli_command(sys.argv[1:]) == "run" and not _reloader_parent()


def _cli_command(args: list[str]) -> str | None:
    takes_value = {"--app", "-A", "--env-file", "-e"}
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg in takes_value:
            skip = True
        elif not arg.startswith("-"):
            return arg
    return None


def _reloader_parent() -> bool:
    reloading = "--reload" in sys.argv or "--debug" in sys.argv
    return reloading and os.environ.get("WERKZEUG_RUN_MAIN") != "true"
