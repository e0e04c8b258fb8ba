"""Office hours: a weekly schedule in an IANA timezone, plus holidays.

Pure: the caller passes the time in, so handoff texts ("back Monday 09:00 (Europe/Berlin)")
and the "AI only outside office hours" mode are testable with fixed datetimes.

Semantics, chosen so that DST and night shifts behave the way a team would expect:

* A range belongs to the day it starts on. `fri 22:00-02:00` runs from Friday 22:00 to
  Saturday 02:00; `24:00` as an end means "until midnight".
* Ranges follow the local wall clock. A range opens the first time the clock shows its
  start and closes the last time the clock shows its end: a night shift across the autumn
  change lasts an hour longer, one across the spring change an hour shorter, and a start
  inside the skipped spring hour opens when the clock jumps forward.
* A holiday closes its whole local date, 00:00 to 24:00: ranges that start on it do not
  happen at all (not even their part after midnight), and an over-midnight range from the
  day before stops at the holiday's midnight. Nobody should be "on duty" on a date the team
  declared off, and an opening never falls on a holiday.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

EXAMPLE = "mon-fri 09:00-17:00; sat 10:00-14:00"
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August",
               "September", "October", "November", "December")
_DAY = 24 * 60
_ALWAYS = {"", "24/7", "24x7"}
_CLAUSE = re.compile(r"^(?P<days>[^\d]*?)\s+(?P<hours>(?:closed|\d).*)$", re.IGNORECASE)
_RANGE = re.compile(r"^(\d{1,2}):(\d{2})\s*[-–]\s*(\d{1,2}):(\d{2})$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class ScheduleError(ValueError):
    """An office-hours setting that cannot be understood; the message says how to fix it."""


@dataclass(frozen=True, order=True)
class Range:
    """Minutes after the start day's midnight; `end` > `start` and exceeds 1440 when the
    range runs past midnight (22:00-02:00 is 1320..1560)."""

    start: int
    end: int


@dataclass(frozen=True)
class Schedule:
    """Ranges per weekday, Monday first."""

    days: tuple[tuple[Range, ...], ...]

    @property
    def never_open(self) -> bool:
        return not any(self.days)


def parse_schedule(text: str) -> Schedule:
    """Read `mon-fri 09:00-17:00; sat 10:00-14:00`. Clauses are separated by `;` or new
    lines; `24/7` or an empty setting means always open. `closed` wins over hours given for
    the same day elsewhere, so `mon-sun 09:00-17:00; sun closed` reads naturally."""
    if text.strip().lower() in _ALWAYS:
        return Schedule(days=tuple((Range(0, _DAY),) for _ in range(7)))
    ranges: list[set[Range]] = [set() for _ in range(7)]
    closed: set[int] = set()
    for clause in filter(None, (part.strip() for part in re.split(r"[;\n]", text))):
        match = _CLAUSE.match(clause)
        if match is None:
            raise ScheduleError(f"cannot read {clause!r}: expected days then hours, "
                                f"e.g. {EXAMPLE!r} or 'sun closed'")
        days = _parse_days(match["days"], clause)
        hours = match["hours"].strip()
        if hours.lower() == "closed":
            closed.update(days)
            continue
        parsed = [_parse_range(part.strip(), clause) for part in hours.split(",")]
        for day in days:
            ranges[day].update(parsed)
    return Schedule(days=tuple(() if day in closed else tuple(sorted(ranges[day]))
                               for day in range(7)))


def _day_index(name: str, clause: str) -> int:
    word = name.strip().lower()
    for index, full in enumerate(DAY_NAMES):
        if len(word) >= 3 and full.lower().startswith(word):
            return index
    raise ScheduleError(f"unknown day {name.strip()!r} in {clause!r}: use mon, tue, wed, thu, "
                        f"fri, sat, sun (or full names), e.g. {EXAMPLE!r}")


def _parse_days(text: str, clause: str) -> list[int]:
    """`mon-fri`, `mon,wed`, `fri-mon` (wraps over the weekend)."""
    days: list[int] = []
    for part in text.split(","):
        if not part.strip():
            raise ScheduleError(f"missing day in {clause!r}: expected e.g. {EXAMPLE!r}")
        first, dash, last = part.partition("-")
        start = _day_index(first, clause)
        end = _day_index(last, clause) if dash else start
        days.extend((start + offset) % 7 for offset in range((end - start) % 7 + 1))
    return days


def _parse_range(text: str, clause: str) -> Range:
    match = _RANGE.match(text)
    if match is None:
        raise ScheduleError(f"cannot read hours {text!r} in {clause!r}: expected HH:MM-HH:MM, "
                            f"e.g. {EXAMPLE!r}")
    start = _minutes(match[1], match[2], text)
    end = _minutes(match[3], match[4], text)
    if start == _DAY:
        raise ScheduleError(f"{text!r} starts at 24:00: start at 00:00 of the next day instead")
    if start == end:
        raise ScheduleError(f"{text!r} starts and ends at the same time: "
                            "for a whole day use 00:00-24:00")
    return Range(start, end if end > start else end + _DAY)


def _minutes(hours: str, minutes: str, text: str) -> int:
    total = int(hours) * 60 + int(minutes)
    if int(minutes) > 59 or total > _DAY:
        raise ScheduleError(f"{text!r} has an impossible time: hours go from 00:00 to 24:00")
    return total


def parse_holidays(text: str) -> frozenset[date]:
    """ISO dates separated by commas, spaces or new lines: `2026-12-25, 2026-12-26`."""
    holidays = set()
    for token in filter(None, re.split(r"[\s,;]+", text.strip())):
        if not _ISO_DATE.match(token):
            raise ScheduleError(f"{token!r} is not a date: use YYYY-MM-DD, "
                                "e.g. '2026-12-25, 2026-12-26'")
        try:
            holidays.add(date.fromisoformat(token))
        except ValueError:
            raise ScheduleError(f"{token!r} is not a real calendar date (YYYY-MM-DD)") from None
    return frozenset(holidays)


def zone(name: str) -> ZoneInfo:
    """The IANA time zone, or ScheduleError (also for names the OS cannot even open)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ScheduleError(f"unknown timezone {name!r}: use an IANA name "
                            "such as 'Europe/Berlin' or 'America/New_York'") from None


class OfficeHours:
    """A schedule placed in a timezone; answers "open now?" and "open again when?"."""

    def __init__(self, schedule: Schedule, timezone: str,
                 holidays: Iterable[date] = frozenset()) -> None:
        self.zone = zone(timezone)
        self.schedule = schedule
        self.timezone = timezone
        self.holidays = frozenset(holidays)

    def is_open(self, at: datetime) -> bool:
        """Whether `at` (aware, any zone) falls inside a range; only ranges starting on the
        local date or the day before can cover it."""
        moment = _utc(at)
        today = moment.astimezone(self.zone).date()
        return any(start <= moment < end
                   for day in (today - timedelta(days=1), today)
                   for start, end in self._shifts(day))

    def next_opening(self, at: datetime) -> datetime | None:
        """The first moment at or after `at` when the office is open, in the office zone
        (`at` itself when open now); None when the schedule never opens."""
        if self.is_open(at):
            return at.astimezone(self.zone)
        if self.schedule.never_open:
            return None
        moment = _utc(at)
        today = moment.astimezone(self.zone).date()
        # Each block of 7 days without a holiday holds every weekday, so this is enough.
        horizon = 7 * (1 + sum(1 for day in self.holidays if day >= today)) + 1
        for offset in range(horizon + 1):
            for start, _end in self._shifts(today + timedelta(days=offset)):
                if start > moment:
                    return start.astimezone(self.zone)
        return None

    def describe_next_opening(self, at: datetime) -> str:
        """`Monday 09:00 (Europe/Berlin)` for the customer-visible offline text; the date
        is added when the opening is more than 6 days away, so a weekday alone is never
        ambiguous. Empty when the schedule never opens, so the caller picks its own text."""
        opening = self.next_opening(at)
        if opening is None:
            return ""
        label = DAY_NAMES[opening.weekday()]
        if (opening.date() - at.astimezone(self.zone).date()).days > 6:
            label += f" {opening.day} {MONTH_NAMES[opening.month - 1]}"
        return f"{label} {opening:%H:%M} ({self.timezone})"

    def _shifts(self, day: date) -> Iterator[tuple[datetime, datetime]]:
        """The non-empty UTC intervals of the ranges that start on local `day`, cut at the
        next midnight when the next day is a holiday."""
        if day in self.holidays:
            return
        midnight = datetime.combine(day, time())
        next_midnight = _first_reach(midnight + timedelta(days=1), self.zone)
        for item in self.schedule.days[day.weekday()]:
            start = _first_reach(midnight + timedelta(minutes=item.start), self.zone)
            end = _last_reach(midnight + timedelta(minutes=item.end), self.zone)
            if day + timedelta(days=1) in self.holidays:
                end = min(end, next_midnight)
            if start < end:
                yield start, end


def _utc(at: datetime) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("office hours need a timezone-aware datetime")
    return at.astimezone(UTC)


def _exists(wall: datetime, zone: ZoneInfo) -> bool:
    aware = wall.replace(tzinfo=zone)
    return aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == wall


def _first_reach(wall: datetime, zone: ZoneInfo) -> datetime:
    """The first instant the local clock shows `wall` or later (UTC)."""
    if _exists(wall, zone):
        return wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    return _gap_end(wall, zone)


def _last_reach(wall: datetime, zone: ZoneInfo) -> datetime:
    """The last instant the local clock reaches `wall` (the second one when the autumn
    change repeats it; the gap's end when the spring change skips it)."""
    if _exists(wall, zone):
        return wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    return _gap_end(wall, zone)


def _gap_end(wall: datetime, zone: ZoneInfo) -> datetime:
    """For a skipped local time: the transition instant, found by bisection between the two
    readings PEP 495 gives (before and after offsets), to the second."""
    low = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    high = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    low, high = min(low, high), max(low, high)
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        if middle.astimezone(zone).replace(tzinfo=None) >= wall:
            high = middle
        else:
            low = middle
    return high.replace(microsecond=0)
