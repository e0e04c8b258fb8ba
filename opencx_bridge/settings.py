"""Typed runtime settings stored in the database, each validated with a clear error.

The registry is the single source of truth: `flask settings show/set` and the settings
pages read it, and the README documents every key (a test checks).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass

from .extensions import db
from .models import Setting, utcnow


class SettingError(ValueError):
    pass


@dataclass(frozen=True)
class Spec:
    key: str
    default: object
    parse: Callable[[str], object]
    help: str


def _bool(text: str) -> bool:
    value = str(text).strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise SettingError("expected true or false")


def _number_in(low: float, high: float) -> Callable[[str], float]:
    """A parser for a finite number with low < value <= high."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except (TypeError, ValueError) as exc:
            raise SettingError(f"expected a number, not {text!r}") from exc
        if not math.isfinite(value) or not low < value <= high:
            raise SettingError(f"expected a number above {low:g} and at most {high:g}")
        return value

    return parse


def _whole_number_in(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(str(text).strip())
        except ValueError as exc:
            raise SettingError(f"expected a whole number, not {text!r}") from exc
        if not low <= value <= high:
            raise SettingError(f"expected a whole number from {low} to {high}")
        return value

    return parse


SPECS: dict[str, Spec] = {spec.key: spec for spec in (
    Spec("dedup_window_hours", 24.0, _number_in(0, 24 * 30),
         "hours a webhook's dedup key is remembered; redeliveries inside it are dropped"),
    Spec("reopen_returns_to_ai", True, _bool,
         "a conversation reopened in Freshchat goes back to the AI (else it stays with humans)"),
    Spec("freshchat_rate_limit_per_minute", 60, _whole_number_in(2, 100_000),
         "your Freshchat plan's API limit; every call, reads included, stays under it"),
    Spec("delivery_retry_horizon_hours", 24.0, _number_in(0, 24 * 30),
         "how long a failing Freshchat call is retried before it is given up (dead-lettered)"),
)}


def get(key: str):
    spec = SPECS[key]
    row = db.session.get(Setting, key)
    return spec.default if row is None else json.loads(row.value)


def set_value(key: str, text: str) -> object:
    """Validate and store; the caller commits."""
    if key not in SPECS:
        raise SettingError(f"unknown setting {key!r}; known: {', '.join(sorted(SPECS))}")
    try:
        value = SPECS[key].parse(text)
    except SettingError as exc:
        raise SettingError(f"{key}: {exc}") from exc
    row = db.session.get(Setting, key)
    if row is None:
        db.session.add(Setting(key=key, value=json.dumps(value)))
    else:
        row.value = json.dumps(value)
        row.updated_at = utcnow()
    return value


def all_values() -> dict[str, object]:
    return {key: get(key) for key in SPECS}
