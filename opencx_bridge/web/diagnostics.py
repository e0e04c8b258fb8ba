"""The Diagnostics page (the checks of `flask freshchat doctor`) and the Dedup page."""

from __future__ import annotations

from flask import Blueprint, render_template

from opencx_bridge.scheduler import checks, diagnostics
from opencx_bridge.store.models import utcnow

bp = Blueprint("diagnostics", __name__)


@bp.get("/diagnostics")
def page():
    results = diagnostics.run()
    return render_template("diagnostics.html", checks=results, ran_at=utcnow(),
                           failing=checks.failed(results),
                           warnings=sum(c.status == checks.WARN for c in results))


@bp.get("/dedup")
def dedup():
    now = utcnow()
    return render_template("dedup.html", stats=diagnostics.dedup_stats(now), now=now,
                           ago=checks.ago)
