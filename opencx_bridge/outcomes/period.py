"""The period a report covers, in local days of the team's time zone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from opencx_bridge.store import settings

PRESETS = {"today": 1, "7d": 7, "30d": 30}


class PeriodError(ValueError):
    """A period that cannot be: the message says what to give instead."""


@dataclass(frozen=True)
class Period:
    first_day: date  # local dates, both included
    last_day: date
    zone: ZoneInfo

    @property
    def since(self) -> datetime:
        return utc(self.first_day, self.zone)

    @property
    def until(self) -> datetime:
        return utc(self.last_day + timedelta(days=1), self.zone)

    @property
    def days(self) -> list[date]:
        return [self.first_day + timedelta(days=n)
                for n in range((self.last_day - self.first_day).days + 1)]

    @property
    def label(self) -> str:
        if self.first_day == self.last_day:
            return self.first_day.isoformat()
        return f"{self.first_day.isoformat()} to {self.last_day.isoformat()}"


def utc(day: date, zone: ZoneInfo) -> datetime:
    """The local midnight starting `day`, as naive UTC (the database's form)."""
    return datetime.combine(day, time(0), zone).astimezone(UTC).replace(tzinfo=None)


def last_days(days: int, zone: ZoneInfo, now: datetime) -> Period:
    """The last `days` local days, today included. `now` is naive UTC."""
    if days < 1 or days > 3660:
        raise PeriodError("the number of days must be between 1 and 3660")
    today = now.replace(tzinfo=UTC).astimezone(zone).date()
    return Period(today - timedelta(days=days - 1), today, zone)


def between(since: str, until: str | None, zone: ZoneInfo, now: datetime) -> Period:
    """From one local date to another (both included; until defaults to today)."""
    first = _date(since, "since")
    last = _date(until, "until") if until else last_days(1, zone, now).last_day
    if last < first:
        raise PeriodError(f"until ({last}) is before since ({first}): swap them")
    if (last - first).days >= 3660:
        raise PeriodError("a period can be at most ten years long")
    return Period(first, last, zone)


def _date(text: str, name: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise PeriodError(f"{name} {text!r} is not a date: write it as YYYY-MM-DD, "
                          "e.g. 2026-12-01") from None


def team_zone() -> ZoneInfo:
    """The team's time zone: the office-hours one (UTC when unset or unknown)."""
    try:
        return ZoneInfo(settings.get("office_hours_timezone") or "UTC")
    except (ValueError, OSError, LookupError):
        return ZoneInfo("UTC")
