"""The Freshchat settings page: Test & Save, webhook URL, disconnect."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_login import current_user

from opencx_bridge.freshchat.account import ConnectError, ConnectRequest
from opencx_bridge.outbox import api_calls
from opencx_bridge.store import integration, secrets_box
from opencx_bridge.web.auth import require_admin
from opencx_bridge.web.forms import EmptyForm, FreshchatForm
from opencx_bridge.worker import runner

bp = Blueprint("settings", __name__, url_prefix="/settings")

UNREADABLE_TOKEN = ("the saved token cannot be read since SECRET_KEY changed: paste the token "
                    "again")
UNREADABLE_URL = ("The webhook URL was saved under another SECRET_KEY and cannot be shown. "
                  "Webhooks sent to it still arrive; to get a URL you can copy, Disconnect, "
                  "connect again and paste the new URL in Freshchat.")


@bp.get("/freshchat")
def freshchat():
    row = integration.get()
    form = FreshchatForm(
        domain=row.domain or "",
        default_agent_email=row.default_agent_email or "",
        auto_handle_all=row.auto_handle_all,
        webhook_public_key=row.webhook_public_key or "",
    )
    return _render(form)


@bp.post("/freshchat")
def save_freshchat():
    require_admin()
    form = FreshchatForm()
    if not form.validate_on_submit():  # CSRFProtect already refused a missing token (400)
        return _render(form), 422
    row = integration.get()
    token = form.access_token.data or ""
    if not token.strip() and row.access_token_enc:
        try:
            token = secrets_box.decrypt(row.access_token_enc)  # blank field keeps the saved token
        except secrets_box.SecretUnreadable:
            form.access_token.errors.append(UNREADABLE_TOKEN)
            return _render(form), 422
    connect_request = ConnectRequest(
        domain=form.domain.data,
        access_token=token,
        default_agent_email=form.default_agent_email.data,
        auto_handle_all=bool(form.auto_handle_all.data),
        webhook_public_key=form.webhook_public_key.data,
    )
    try:
        verified = api_calls.check_connection(connect_request)
    except ConnectError as exc:
        getattr(form, exc.field).errors.append(exc.message)
        flash("Nothing was saved: " + exc.message, "error")
        return _render(form), 422
    integration.save_connection(verified, who=current_user.email)
    runner.wake(current_app._get_current_object())  # what waited for it goes now
    flash(f"Connected. The AI answers as {verified.agent_name}.", "success")
    return redirect(url_for("settings.freshchat"))


@bp.post("/freshchat/disconnect")
def disconnect():
    require_admin()
    if integration.disconnect(who=current_user.email):
        flash("Disconnected. The old webhook URL now answers 404.", "info")
    return redirect(url_for("settings.freshchat"))


def _render(form: FreshchatForm):
    row = integration.get()
    try:
        webhook_url, webhook_url_problem = integration.webhook_url(row), None
        if webhook_url and not current_user.is_admin:  # the token is the URL's secret
            webhook_url = integration.redact_webhook_tokens(webhook_url)
    except secrets_box.SecretUnreadable:
        webhook_url, webhook_url_problem = None, UNREADABLE_URL
    return render_template(
        "settings_freshchat.html",
        form=form,
        row=row,
        connected=integration.is_connected(row),
        token_mask=secrets_box.mask(row.access_token_enc),
        webhook_url=webhook_url,
        webhook_url_problem=webhook_url_problem,
        events=integration.WEBHOOK_EVENTS,
        disconnect_form=EmptyForm(),
    )
