"""The inbox (`/`): sessions newest first, filtered by status, searched, paged by key, and
kept live by an htmx poll of `/inbox/rows` (204 while nothing changed); the Waiting tab is
the live queue of conversations the AI has not answered yet.
"""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request

from opencx_bridge.outcomes import figures, period, report
from opencx_bridge.scheduler import checks
from opencx_bridge.store import integration, queue, session_list, sessions, settings
from opencx_bridge.store.models import utcnow
from opencx_bridge.web import present

bp = Blueprint("inbox", __name__)
MAX_QUERY = 200
WAITING = "waiting"  # not a status: conversations waiting for the AI (the live queue)


@bp.app_template_filter("ago")
def _ago(moment, now=None):
    return present.ago(moment, now)


@bp.app_context_processor
def _labels():
    return {"status_labels": present.STATUS_LABELS, "author_labels": present.AUTHOR_LABELS,
            "kind_labels": present.KIND_LABELS, "count_cap": sessions.COUNT_CAP}


@bp.get("/")
def index():
    args = _list_args()
    results, digest = _results(args)
    row = integration.get()
    return render_template("inbox.html", args=args, results=results, digest=digest,
                           status=args["status"], query=args["q"], showing=_outcome(args)[1],
                           connected=integration.is_connected(row), integration=row)


@bp.get("/inbox/rows")
def rows():
    """The live part of the inbox, for htmx; 204 when the caller already shows it."""
    results, digest = _results(_list_args())
    if request.args.get("seen") == digest:
        return "", 204
    return render_template("_live.html", body=results, digest=digest, seen_id="inbox-seen")


def _results(args: dict):
    before = int(args["before"]) if args["before"] else None
    now = utcnow()
    connected = integration.is_connected(integration.get())
    counts = {**sessions.status_counts(now), WAITING: queue.count()}
    if args["status"] == WAITING:
        waiting = queue.waiting(now, settings.get("freshchat_rate_limit_per_minute"))
        return present.live_fragment("_inbox_waiting.html", queue=waiting, args=args, now=now,
                                     counts=counts, connected=connected,
                                     clears_in=checks.clears_in)
    page = session_list.fetch(args["status"], args["q"] or "", before, now=now,
                              where=_outcome(args)[0])
    return present.live_fragment("_inbox_results.html", page=page, args=args, now=now,
                                 connected=connected, counts=counts)


def _list_args() -> dict:
    """status, q and before from the query string, checked; only the set ones are kept
    in links (url_for drops None)."""
    status = request.args.get("status") or None
    known = (*sessions.STATUSES, sessions.STRANDED, WAITING)
    if status not in (None, *known):
        abort(400, f"unknown status {status!r}; use one of {', '.join(known)}")
    query = (request.args.get("q") or "").strip()[:MAX_QUERY] or None
    before = request.args.get("before") or None
    if before is not None and not (before.isascii() and before.isdigit() and len(before) < 19):
        abort(400, f"before must be a session id (a number), not {before!r}")
    found = {"status": status, "q": query, "before": before}
    for name in ("outcome", "since", "until"):  # the overview's links
        found[name] = (request.args.get(name) or "").strip()[:64] or None
    _outcome(found)  # a bad filter is a 400 now, not on the live poll
    return found


def _outcome(args: dict):
    """The overview's filter as a condition and a sentence (None, None when not filtered)."""
    if not args.get("outcome"):
        return None, None
    window = settings.get("reopen_window_hours")
    try:
        condition, label = figures.filter_for(args["outcome"], window)
        chosen = period.between(args.get("since") or "", args.get("until"),
                                period.team_zone(), utcnow())
    except ValueError as exc:  # PeriodError is one
        abort(400, f"{exc}. Open the figure from the overview page again.")
    how = figures.how(args["outcome"], window) if args["outcome"] in figures.BY_NAME else None
    return condition & report.started_in(chosen), {"label": label, "period": chosen.label,
                                                   "how": how}


