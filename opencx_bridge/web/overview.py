"""The overview (`/overview`): what the AI achieved in a period, each number with how it is
counted and a link to the sessions behind it (the inbox, filtered by the same condition)."""

from __future__ import annotations

from flask import Blueprint, Response, abort, render_template, request, stream_with_context

from opencx_bridge.engine.rules.reasons import LABELS
from opencx_bridge.outcomes import charts, export, figures, period, report
from opencx_bridge.store import sessions, settings
from opencx_bridge.store.models import utcnow

bp = Blueprint("overview", __name__)
OUTCOME_SERIES = (("ai_resolved", "AI-resolved"), ("handed_off", "Handed off"),
                  ("taken_over", "Taken over"), ("rest", "Other or still open"))


@bp.get("/overview")
def page():
    chosen, choice, error = chosen_period(request.args)
    window = settings.get("reopen_window_hours")
    numbers = report.build(chosen, window)
    return render_template("overview.html", numbers=numbers, period=chosen, choice=choice,
                           error=error, figures=figures.FIGURES, how=_how(window),
                           labels=LABELS, charts=_charts(numbers), presets=period.PRESETS,
                           args=request.args)


@bp.get("/sessions/export.csv")
def export_csv():
    """Every session (or those since a day, with a status) as CSV, streamed."""
    status = request.args.get("status") or None
    if status not in (None, *sessions.STATUSES):
        abort(400, f"unknown status {status!r}; use one of {', '.join(sessions.STATUSES)}")
    since = None
    if request.args.get("since"):
        try:
            since = period.between(request.args["since"], None, period.team_zone(),
                                   utcnow()).since
        except period.PeriodError as exc:
            abort(400, str(exc))
    found = export.rows(settings.get("reopen_window_hours"), since, status)
    return Response(stream_with_context(export.csv_chunks(found)), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=sessions.csv"})


def chosen_period(args) -> tuple[period.Period, str, str | None]:
    """The period asked for (preset or custom dates); a bad one falls back to 7 days and
    says why instead of failing the page."""
    zone, now = period.team_zone(), utcnow()
    choice = args.get("period") or "7d"
    try:
        if choice == "custom":
            return period.between(args.get("since") or "", args.get("until") or None, zone,
                                  now), choice, None
        if choice not in period.PRESETS:
            raise period.PeriodError(f"unknown period {choice!r}: choose today, 7d, 30d or "
                                     "custom")
        return period.last_days(period.PRESETS[choice], zone, now), choice, None
    except period.PeriodError as exc:
        return period.last_days(7, zone, now), "7d", str(exc)


def _how(window: float) -> dict[str, str]:
    return {figure.name: figures.how(figure.name, window) for figure in figures.FIGURES}


def _charts(numbers: dict) -> dict[str, str]:
    days = numbers["per_day"]
    labels = [day["date"][5:] for day in days]  # MM-DD
    series = [(css, name, [d[css] for d in days]) for css, name in OUTCOME_SERIES[:3]]
    rest = [max(0, d["conversations"] - d["ai_resolved"] - d["handed_off"] - d["taken_over"])
            for d in days]
    series.append(("rest", OUTCOME_SERIES[3][1], rest))
    hours = {h["hour"]: h["conversations"] for h in numbers["busiest_hours"]}
    return {
        "outcomes": charts.stacked_bars(labels, series, "Conversations per day, by outcome"),
        "legend": charts.legend(list(OUTCOME_SERIES)),
        "first_reply": charts.bars(labels, [d["first_reply_p50_seconds"] for d in days],
                                   "Median first AI reply per day, in seconds", "seconds"),
        "hours": charts.bars([f"{h:02d}" for h in range(24)],
                             [hours.get(h, 0) for h in range(24)],
                             "Conversations by hour of the day they started"),
    }
