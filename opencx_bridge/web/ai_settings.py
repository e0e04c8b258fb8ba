"""The AI settings page (handoff rules, office hours, auto-resolve, the responder) and the
audit trail of every settings change. The fields come from the settings registry."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from opencx_bridge.store import settings
from opencx_bridge.store.setting_specs import SPECS, SettingError
from opencx_bridge.web.auth import require_admin
from opencx_bridge.web.forms import EmptyForm

bp = Blueprint("ai_settings", __name__, url_prefix="/settings")

GROUPS = (
    ("handoff", "Handoff rules"),
    ("office_hours", "Office hours"),
    ("resolution", "Auto-resolve"),
    ("ai", "Who answers"),
    ("routing", "Routing"),
    ("delivery", "Delivery"),
)


@bp.get("/ai")
def page():
    return _render({}, {})


@bp.post("/ai")
def save():
    require_admin()
    submitted = _submitted()
    errors: dict[str, str] = {}
    for key, value in submitted.items():
        try:
            settings.parse(key, value)
        except SettingError as exc:
            errors[key] = str(exc)
    if errors:
        flash("Nothing was saved: fix the fields marked below.", "error")
        return _render(submitted, errors), 422
    settings.set_many(submitted, who=current_user.email)
    flash("Settings saved.", "success")
    return redirect(url_for("ai_settings.page"))


@bp.get("/audit")
def audit():
    return render_template("settings_audit.html", changes=settings.recent_changes())


def _submitted() -> dict[str, str]:
    """Every registry field from the form; an unchecked box is false, a blank secret keeps
    the saved one."""
    values: dict[str, str] = {}
    for key, spec in SPECS.items():
        if isinstance(spec.default, bool):
            values[key] = "true" if request.form.get(key) else "false"
        elif spec.secret and not request.form.get(key, "").strip():
            continue
        else:
            values[key] = request.form.get(key, "")
    return values


def _render(submitted: dict[str, str], errors: dict[str, str]):
    # Secrets are only said to be set: decrypting one here would turn a changed SECRET_KEY
    # into a page that cannot open, the one page where the key can be entered again.
    current = {key: settings.is_set(key) if spec.secret else settings.get(key)
               for key, spec in SPECS.items()}
    fields = []
    for group, title in GROUPS:
        specs = [spec for spec in SPECS.values() if spec.group == group]
        fields.append((title, [_field(spec, current, submitted, errors) for spec in specs]))
    return render_template("settings_ai.html", groups=fields, form=EmptyForm())


def _field(spec, current, submitted, errors) -> dict:
    value = submitted.get(spec.key, current[spec.key])
    kind = ("checkbox" if isinstance(spec.default, bool) else "select" if spec.choices
            else "password" if spec.secret else "textarea" if spec.multiline else "text")
    return {
        "key": spec.key, "help": spec.help, "kind": kind, "choices": spec.choices,
        "value": "" if spec.secret else value,
        "checked": str(value).lower() in ("true", "1", "on", "yes"),
        "saved_secret": spec.secret and bool(current[spec.key]),
        "error": errors.get(spec.key),
    }
