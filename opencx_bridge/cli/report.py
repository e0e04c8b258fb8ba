"""`flask report`: the overview's numbers in the shell."""

from __future__ import annotations

import json

import click
from flask.cli import with_appcontext

from opencx_bridge.engine.rules.reasons import LABELS
from opencx_bridge.outcomes import figures, period, report
from opencx_bridge.store import settings
from opencx_bridge.store.models import utcnow


@click.command("report")
@click.option("--days", type=int, help="the last N days, today included (default 7)")
@click.option("--since", help="first day, YYYY-MM-DD (the team's time zone)")
@click.option("--until", help="last day, YYYY-MM-DD, included (default today)")
@click.option("--json", "as_json", is_flag=True, help="one JSON object instead of text")
@with_appcontext
def report_command(days: int | None, since: str | None, until: str | None,
                   as_json: bool) -> None:
    """What the AI achieved in a period: conversations, AI-resolved, handoffs by reason,
    takeovers, reopens, first-reply time."""
    chosen = _period(days, since, until)
    window = settings.get("reopen_window_hours")
    numbers = report.build(chosen, window)
    if as_json:
        click.echo(json.dumps(numbers, indent=2))
        return
    for line in text_lines(numbers):
        click.echo(line)


def _period(days, since, until) -> period.Period:
    if days is not None and (since or until):
        raise click.UsageError("give either --days or --since/--until, not both")
    if until and not since:
        raise click.UsageError("--until needs --since")
    zone = period.team_zone()
    try:
        if since:
            return period.between(since, until, zone, utcnow())
        return period.last_days(7 if days is None else days, zone, utcnow())
    except period.PeriodError as exc:
        raise click.UsageError(str(exc)) from exc


def text_lines(numbers: dict) -> list[str]:
    window = numbers["reopen_window_hours"]
    total = numbers["conversations"]
    lines = [f"{numbers['since']} to {numbers['until']} ({numbers['time_zone']})"]
    for figure in figures.FIGURES:
        value = numbers[figure.name]
        share = f" ({value / total:.0%})" if total and figure.name != "conversations" else ""
        lines.append(f"{figure.label}: {value}{share} — {figures.how(figure.name, window)}")
    for kind, count in numbers["handoffs_by_reason"].items():
        lines.append(f"  handed off, {LABELS.get(kind, kind)}: {count}")
    p50, p95 = numbers["first_reply_p50_seconds"], numbers["first_reply_p95_seconds"]
    lines.append("First AI reply: " + (f"p50 {p50:g} s, p95 {p95:g} s over "
                                       f"{numbers['first_replies_measured']} conversation(s)"
                                       if p50 is not None else "none in the period"))
    median = numbers["median_messages"]
    lines.append(f"Median conversation length: {median if median is not None else '-'} "
                 "message(s)")
    return lines
