"""The Diagnostics page (the checks of `flask freshchat doctor`) and the Dedup page."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for

from opencx_bridge.scheduler import checks, diagnostics, freshchat_check
from opencx_bridge.store import integration
from opencx_bridge.store.models import utcnow
from opencx_bridge.web.auth import require_admin
from opencx_bridge.web.forms import EmptyForm

bp = Blueprint("diagnostics", __name__)


@bp.get("/diagnostics")
def page():
    """The database now, Freshchat as the worker last asked it: never a Freshchat call here,
    so the page answers at once even behind a backlog."""
    now = utcnow()
    facts = diagnostics.gather(now)
    results = checks.run_checks(facts)
    return render_template("diagnostics.html", checks=results, ran_at=now, facts=facts,
                           failing=checks.failed(results), ago=checks.ago, form=EmptyForm(),
                           warnings=sum(c.status == checks.WARN for c in results))


@bp.post("/diagnostics/ask-freshchat")
def ask_freshchat():
    """Ask Freshchat now, unless customers are waiting: their replies come first."""
    require_admin()
    if not EmptyForm().validate_on_submit():
        flash("The form expired; try again.", "error")
    elif not integration.is_connected(integration.get()):
        flash("Not connected to Freshchat: run Test & Save first.", "error")
    else:
        facts = diagnostics.gather()
        if facts.events_waiting or facts.outbox_depth:
            flash("Not asked: customers' messages and replies are waiting for the rate budget, "
                  "and they go first. The worker asks Freshchat again within a few minutes.",
                  "error")
        else:
            freshchat_check.refresh()
            flash("Freshchat asked just now.", "success")
    return redirect(url_for("diagnostics.page"))


@bp.get("/dedup")
def dedup():
    now = utcnow()
    return render_template("dedup.html", stats=diagnostics.dedup_stats(now), now=now,
                           ago=checks.ago)
