"""Blueprints, the login guard, error pages and the vendored-at-install-time htmx."""

from __future__ import annotations

from pathlib import Path

import js_lib_htmx
from flask import Flask, jsonify, redirect, render_template, request, send_from_directory, url_for
from flask_login import current_user
from flask_wtf.csrf import CSRFError

from opencx_bridge.extensions import csrf, login_manager
from opencx_bridge.intake import view as webhooks
from opencx_bridge.web import (
    ai_settings,
    auth,
    diagnostics,
    health,
    inbox,
    kb,
    kb_eval,
    kb_suggestions,
    overview,
    security,
    session_page,
    settings,
)

PUBLIC_ENDPOINTS = {"auth.login", "auth.setup", "health.healthz", "static", "htmx_js"}
HTMX_DIR = Path(js_lib_htmx.__file__).parent / "static" / "htmx"


def init_app(app: Flask) -> None:
    # Registered before CSRFProtect's own hook: an anonymous POST is sent to the login page.
    app.before_request(_require_login)
    security.init_app(app)
    for module in (ai_settings, auth, diagnostics, health, inbox, kb, kb_eval, kb_suggestions,
                   overview, session_page, settings, webhooks):
        app.register_blueprint(module.bp)
    csrf.exempt(webhooks.bp)
    login_manager.user_loader(auth.load_user)
    app.add_url_rule("/vendor/htmx.min.js", "htmx_js", _htmx_js)
    app.register_error_handler(CSRFError, _csrf_error)
    for code in (400, 403, 404, 405, 413, 500):
        app.register_error_handler(code, _error_page)


def _require_login():
    if request.url_rule is None:
        return None  # no such page or method: the 404/405 page says so, login or not
    endpoint = request.endpoint or ""
    if endpoint in PUBLIC_ENDPOINTS or endpoint.startswith("webhooks."):
        return None
    if current_user.is_authenticated:
        return None
    if request.headers.get("HX-Request"):  # a live poll after the login expired: reload
        return "", 204, {"HX-Refresh": "true"}
    if auth.needs_first_admin():
        return redirect(url_for("auth.setup"))
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def _htmx_js():
    return send_from_directory(HTMX_DIR, "htmx.min.js", mimetype="text/javascript")


def _csrf_error(error: CSRFError):
    message = f"The form expired or was not sent from this dashboard ({error.description}). " \
              "Go back, reload the page and try again."
    return _render_error(400, "Form rejected", message)


def _error_page(error):
    code = getattr(error, "code", 500) or 500
    titles = {400: "Bad request", 403: "Not allowed", 404: "Not found",
              405: "Method not allowed", 413: "Too large", 500: "Something went wrong"}
    description = getattr(error, "description", None) if code != 500 else None
    message = description or "The bridge hit an unexpected error; the log has the details."
    return _render_error(code, titles.get(code, "Error"), message)


def _render_error(code: int, title: str, message: str):
    if request.path.startswith("/webhooks/") or request.accept_mimetypes.best == "application/json":
        return jsonify(error=title.lower(), message=message), code
    return render_template("error.html", code=code, title=title, message=message), code
