"""The Diagnostics page (the checks of `flask freshchat doctor`) and the Dedup page."""

from __future__ import annotations

from flask import Blueprint, render_template

from .. import diagnostics, diagnostics_gather
from ..models import utcnow

bp = Blueprint("diagnostics", __name__)


@bp.get("/diagnostics")
def page():
    checks = diagnostics_gather.run()
    return render_template("diagnostics.html", checks=checks, ran_at=utcnow(),
                           failing=diagnostics.failed(checks),
                           warnings=sum(c.status == diagnostics.WARN for c in checks))


@bp.get("/dedup")
def dedup():
    now = utcnow()
    return render_template("dedup.html", stats=diagnostics_gather.dedup_stats(now), now=now,
                           ago=diagnostics.ago)
