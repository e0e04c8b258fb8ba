"""The numbers for a period. One query reads the period's sessions with each figure's
condition evaluated by the database (figures.py); `summarize`, pure, counts them overall,
per local day, per handoff reason and per local hour, and takes the percentiles. Sessions
are counted in the period, and on the day, in which they started."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import UTC

from sqlalchemy import case, select

from opencx_bridge.engine.rules.reasons import LABELS, OTHER
from opencx_bridge.extensions import db
from opencx_bridge.outcomes import figures
from opencx_bridge.outcomes.period import Period
from opencx_bridge.store.models import ChatSession as S

COUNTED = tuple(figure.name for figure in figures.FIGURES)


def build(period: Period, window_hours: float) -> dict:
    flags = [case((figures.condition(name, window_hours), 1), else_=0) for name in COUNTED]
    rows = db.session.execute(
        select(S.created_at, S.handoff_kind, S.first_reply_seconds, S.message_count, *flags)
        .where(started_in(period)).execution_options(yield_per=5000))
    return summarize(rows, period, window_hours)


def started_in(period: Period):
    return (S.created_at >= period.since) & (S.created_at < period.until)


def summarize(rows: Iterable[tuple], period: Period, window_hours: float) -> dict:
    """rows: (created_at naive UTC, handoff_kind, first_reply_seconds, message_count, then
    one 0/1 per COUNTED figure)."""
    counts = Counter()
    per_day = {day: Counter() for day in period.days}
    day_replies: dict = {day: [] for day in period.days}
    reasons, hours = Counter(), Counter()
    replies, lengths = [], []
    handed_off = COUNTED.index("handed_off")
    for created_at, kind, seconds, messages, *flags in rows:
        local = created_at.replace(tzinfo=UTC).astimezone(period.zone)
        day = per_day.get(local.date())
        hours[local.hour] += 1
        for name, flag in zip(COUNTED, flags, strict=True):
            if flag:
                counts[name] += 1
                if day is not None:
                    day[name] += 1
        if flags[handed_off]:
            reasons[kind or OTHER] += 1
        if seconds is not None:
            replies.append(float(seconds))
            if day is not None:
                day_replies[local.date()].append(float(seconds))
        lengths.append(int(messages or 0))
    total = counts["conversations"]
    return {
        "since": period.first_day.isoformat(), "until": period.last_day.isoformat(),
        "time_zone": period.zone.key, "reopen_window_hours": window_hours,
        **{name: counts[name] for name in COUNTED},
        "ai_resolution_rate": round(counts["ai_resolved"] / total, 4) if total else None,
        "handoffs_by_reason": {name: reasons[name] for name in [*LABELS, *sorted(reasons)]
                               if reasons.get(name)},
        "first_reply_p50_seconds": _rounded(percentile(replies, 50)),
        "first_reply_p95_seconds": _rounded(percentile(replies, 95)),
        "first_replies_measured": len(replies),
        "median_messages": percentile(lengths, 50),
        "busiest_hours": [{"hour": hour, "conversations": n}
                          for hour, n in sorted(hours.items(), key=lambda p: (-p[1], p[0]))],
        "per_day": [{"date": day.isoformat(), **{name: day_counts[name] for name in COUNTED},
                     "first_reply_p50_seconds": _rounded(percentile(day_replies[day], 50))}
                    for day, day_counts in per_day.items()],
    }


def percentile(values: list, p: float):
    """Nearest-rank percentile; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * p // 100))  # ceil(n * p / 100)
    return ordered[int(rank) - 1]


def _rounded(value):
    return None if value is None else round(value, 1)


