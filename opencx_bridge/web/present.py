"""How the dashboard shows things: status labels, ages, timeline facts, live fragments."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime

from flask import render_template
from markupsafe import Markup

from opencx_bridge.store.models import TimelineEntry, utcnow
from opencx_bridge.web.support_bundle import detail_of

STATUS_LABELS = {"open": "AI handling", "handed_off": "handed off", "resolved": "resolved"}
AUTHOR_LABELS = {"customer": "Customer", "ai": "AI", "agent": "Agent", "note": "Private note"}
KIND_LABELS = {"event": "webhook", "duplicate": "webhook", "decision": "decision",
               "skip": "decision", "ignored": "decision", "call": "Freshchat call",
               "error": "error"}
# (detail key, label) in the order shown; present keys only
FACTS = (("status", "status"), ("latency_ms", "latency"), ("error", "error"),
         ("confidence", "confidence"), ("sentiment", "sentiment"), ("topic", "topic"),
         ("retry_count", "retry"), ("by", "by"), ("outbox_id", "call"))
CSRF_VALUE = re.compile(r'name="csrf_token" value="[^"]*"')


@dataclass(frozen=True)
class Fact:
    label: str
    value: str
    tone: str = ""  # "", "ok", "warn" or "bad": the colour of the chip


def ago(moment: datetime | None, now: datetime | None = None) -> str:
    """"just now", "5 min ago", "3 h ago", "2 days ago" (minute granularity, so a live
    fragment changes at most once a minute because of it)."""
    if moment is None:
        return ""
    seconds = ((now or utcnow()) - moment).total_seconds()
    if seconds < 60:
        return "just now"
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes} min ago"
    if minutes < 48 * 60:
        return f"{minutes // 60} h ago"
    return f"{minutes // (24 * 60)} days ago"


def facts(entry: TimelineEntry) -> list[Fact]:
    """The chips beside a timeline line: the dedup result of a webhook, a decision's
    confidence and sentiment, a call's status code, latency and error."""
    detail = detail_of(entry) or {}
    found = []
    if entry.kind == "event":
        ignored = "ignored" in entry.summary
        found.append(Fact("dedup", "new, ignored" if ignored else "new", "" if ignored else "ok"))
    elif entry.kind == "duplicate":
        found.append(Fact("dedup", "duplicate, dropped", "warn"))
    for key, label in FACTS:
        value = detail.get(key)
        if key == "status" and entry.kind == "call" and value is None and "status" in detail:
            found.append(Fact(label, "no answer", "bad"))
        elif value not in (None, "") and not (key == "retry_count" and value == 0):
            found.append(Fact(label, _format(key, value), _tone(key, value)))
    return found


def _format(key: str, value) -> str:
    if key == "latency_ms" and isinstance(value, int | float):
        return f"{value:.0f} ms"
    if key == "confidence" and isinstance(value, int | float):
        return f"{value:.2f}"
    if key == "outbox_id":
        return f"#{value}"
    if isinstance(value, dict) and "label" in value:
        score = value.get("score")
        return f"{value['label']} ({score:+.2f})" if isinstance(score, int | float) \
            else str(value["label"])
    return str(value)


def _tone(key: str, value) -> str:
    if key == "error":
        return "bad"
    if key == "status" and isinstance(value, int):
        return "ok" if value < 400 else "bad"
    return ""


def live_fragment(template: str, **context) -> tuple[Markup, str]:
    """A rendered partial and its digest: a poll that already shows this digest gets 204
    (htmx then leaves the page alone: no flicker, no lost selection, nothing re-announced)."""
    html = render_template(template, **context)
    stable = CSRF_VALUE.sub("", html)  # the token is re-signed with a new time on each render
    return Markup(html), hashlib.sha256(stable.encode()).hexdigest()[:16]
