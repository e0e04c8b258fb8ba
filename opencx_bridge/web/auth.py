"""Login, logout and the one-time first-admin page."""

from __future__ import annotations

from math import ceil
from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from opencx_bridge.store import sessions, users
from opencx_bridge.store.models import User
from opencx_bridge.web.forms import FirstAdminForm, LoginForm
from opencx_bridge.web.security import login_throttle

bp = Blueprint("auth", __name__)


def load_user(session_id: str) -> User | None:
    return users.from_session(session_id)


def needs_first_admin() -> bool:
    return users.count() == 0


@bp.route("/setup", methods=["GET", "POST"])
def setup():
    if not needs_first_admin():
        return redirect(url_for("auth.login"))
    form = FirstAdminForm()
    if form.validate_on_submit():
        try:
            user = users.create(form.email.data, form.password.data, "admin")
        except users.UserError as exc:
            form.email.errors.append(str(exc))
        else:
            login_user(user)
            flash("Welcome! Connect your Freshchat workspace to start.", "success")
            return redirect(url_for("settings.freshchat"))
    return render_template("setup.html", form=form)


@bp.route("/login", methods=["GET", "POST"])
def login():
    if needs_first_admin():
        return redirect(url_for("auth.setup"))
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")))
    form = LoginForm()
    if form.validate_on_submit():
        account = "account:" + (form.email.data or "").strip().lower()
        address = "address:" + (request.remote_addr or "unknown")
        throttle = login_throttle()
        wait = throttle.wait_seconds(account)
        user = users.authenticate(form.email.data, form.password.data) if not wait else None
        # The address's limit never stops the right password of an account nobody has been
        # guessing: behind a proxy every colleague shares one address.
        if user is None or throttle.has_failures(account):
            address_wait = throttle.wait_seconds(address)
            if address_wait and user is None and not wait:
                throttle.failed(account, address)  # a guess from a busy address still counts
            wait = max(wait, address_wait)
        if wait > 0:
            form.password.errors.append(
                f"Too many failed sign-ins. Wait {ceil(wait)} s and try again.")
            return render_template("login.html", form=form), 429
        if user is not None:
            throttle.succeeded(account)
            login_user(user)
            return redirect(_safe_next(request.args.get("next")))
        throttle.failed(account, address)
        form.password.errors.append("Wrong email or password.")
    return render_template("login.html", form=form)


@bp.post("/logout")
@login_required
def logout():
    users.end_sessions(current_user._get_current_object())  # a copied cookie dies too
    logout_user()
    flash("Signed out.", "info")
    return redirect(url_for("auth.login"))


def _safe_next(target: str | None) -> str:
    """Only same-site paths: an open redirect after login is a phishing aid."""
    if not target:
        return _landing()
    if any(ord(c) < 32 or ord(c) == 127 for c in target) or "\\" in target:
        return _landing()  # CR/LF would split the Location header; "\\" reads as "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return _landing()
    return target


def _landing() -> str:
    """The overview once there are sessions to count; the inbox (with its set-up hints)
    before."""
    return url_for("overview.page" if sessions.recent(limit=1) else "inbox.index")


def require_admin() -> None:
    if not current_user.is_admin:
        abort(403, "Only admins can change settings. Ask an admin, or sign in as one.")
