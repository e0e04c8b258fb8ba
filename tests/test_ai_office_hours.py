"""Office hours: parsing, open/closed, next opening, across DST, midnight and holidays."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from opencx_bridge.ai.office_hours import (
    OfficeHours,
    Range,
    ScheduleError,
    parse_holidays,
    parse_schedule,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
WEEK = "mon-fri 09:00-17:00; sat 10:00-14:00"


def hours(schedule: str, zone: str = "Europe/Berlin", holidays: str = "") -> OfficeHours:
    return OfficeHours(parse_schedule(schedule), zone, parse_holidays(holidays))


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# --- parsing ---------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "day", "ranges"), [
    (WEEK, 0, (Range(540, 1020),)),
    (WEEK, 5, (Range(600, 840),)),
    (WEEK, 6, ()),
    ("fri 22:00-02:00", 4, (Range(1320, 1560),)),
    ("fri 22:00-00:00", 4, (Range(1320, 1440),)),
    ("mon,wed 08:00-12:00, 13:00-17:00", 2, (Range(480, 720), Range(780, 1020))),
    ("mon,wed 08:00-12:00, 13:00-17:00", 1, ()),
    ("Monday - Wednesday 9:30-18:00", 1, (Range(570, 1080),)),
    ("TUES 08:00-24:00", 1, (Range(480, 1440),)),
    ("fri-mon 10:00-12:00", 6, (Range(600, 720),)),
    ("mon-sun 09:00-17:00; sun closed", 6, ()),
    ("sun closed; mon-sun 09:00-17:00", 6, ()),
    ("mon 09:00-12:00; mon 11:00-13:00", 0, (Range(540, 720), Range(660, 780))),
    ("mon 09:00-17:00\ntue 10:00-11:00", 1, (Range(600, 660),)),
    ("24/7", 3, (Range(0, 1440),)),
    ("", 6, (Range(0, 1440),)),
    ("  ", 0, (Range(0, 1440),)),
])
def test_parse_schedule(text, day, ranges):
    assert parse_schedule(text).days[day] == ranges


@pytest.mark.parametrize(("text", "fragment"), [
    ("mon-fri", "expected days then hours"),
    ("09:00-17:00", "expected days then hours"),
    ("mno 09:00-17:00", "unknown day 'mno'"),
    ("mo 09:00-17:00", "unknown day 'mo'"),
    ("mon- 09:00-17:00", "unknown day ''"),
    ("mon,,tue 09:00-17:00", "missing day"),
    ("mon 9-17", "expected HH:MM-HH:MM"),
    ("mon 09:00-17:00 closed", "expected HH:MM-HH:MM"),
    ("mon 25:00-26:00", "00:00 to 24:00"),
    ("mon 09:60-17:00", "00:00 to 24:00"),
    ("mon 24:30-01:00", "00:00 to 24:00"),
    ("mon 24:00-02:00", "starts at 24:00"),
    ("mon 09:00-09:00", "00:00-24:00"),
    ("24/7; sun closed", "expected days then hours"),
])
def test_parse_schedule_errors_say_what_is_wrong(text, fragment):
    with pytest.raises(ScheduleError) as error:
        parse_schedule(text)
    assert fragment in str(error.value)
    assert isinstance(error.value, ValueError)


def test_errors_show_the_expected_form():
    with pytest.raises(ScheduleError, match="mon-fri 09:00-17:00; sat 10:00-14:00"):
        parse_schedule("weekdays 09:00-17:00")


@pytest.mark.parametrize(("text", "expected"), [
    ("2026-12-25, 2026-12-26", {date(2026, 12, 25), date(2026, 12, 26)}),
    ("2026-12-25 2027-01-01\n2026-12-31", {date(2026, 12, 25), date(2027, 1, 1),
                                           date(2026, 12, 31)}),
    ("2026-12-25,2026-12-25", {date(2026, 12, 25)}),
    ("", set()),
])
def test_parse_holidays(text, expected):
    assert parse_holidays(text) == frozenset(expected)


@pytest.mark.parametrize(("text", "fragment"), [
    ("25.12.2026", "use YYYY-MM-DD"),
    ("20261225", "use YYYY-MM-DD"),
    ("2026-12-25, christmas", "'christmas' is not a date"),
    ("2026-02-30", "not a real calendar date"),
])
def test_parse_holidays_errors(text, fragment):
    with pytest.raises(ScheduleError, match=fragment):
        parse_holidays(text)


@pytest.mark.parametrize("zone", ["Mars/Olympus", "europe/berlin", "", "../etc/passwd"])
def test_unknown_timezone(zone):
    with pytest.raises(ScheduleError, match="unknown timezone"):
        OfficeHours(parse_schedule(WEEK), zone)


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        hours(WEEK).is_open(datetime(2026, 1, 5, 10))


# --- is_open ---------------------------------------------------------------------------

@pytest.mark.parametrize(("schedule", "at", "expected"), [
    (WEEK, berlin(2026, 1, 5, 9, 0), True),          # Monday opening minute
    (WEEK, berlin(2026, 1, 5, 8, 59), False),
    (WEEK, berlin(2026, 1, 5, 17, 0), False),        # end is exclusive
    (WEEK, berlin(2026, 1, 10, 13, 59), True),       # Saturday
    (WEEK, berlin(2026, 1, 11, 12, 0), False),       # Sunday
    (WEEK, utc(2026, 1, 5, 8, 30), True),            # 09:30 in Berlin (winter, +01:00)
    (WEEK, utc(2026, 7, 6, 14, 30), True),           # 16:30 in Berlin (summer, +02:00)
    (WEEK, utc(2026, 7, 6, 15, 30), False),          # 17:30 in Berlin
    (WEEK, datetime(2026, 1, 5, 3, 30, tzinfo=NEW_YORK), True),  # any zone is converted
    ("fri 22:00-02:00", berlin(2026, 1, 9, 23, 0), True),
    ("fri 22:00-02:00", berlin(2026, 1, 10, 1, 59), True),   # Saturday morning
    ("fri 22:00-02:00", berlin(2026, 1, 10, 2, 0), False),
    ("fri 22:00-02:00", berlin(2026, 1, 9, 1, 0), False),    # Friday morning is not it
    ("mon 20:00-24:00", berlin(2026, 1, 5, 23, 59), True),
    ("mon 20:00-24:00", berlin(2026, 1, 6, 0, 0), False),
    ("mon 20:00-24:00; tue 00:00-01:00", berlin(2026, 1, 6, 0, 0), True),
    ("24/7", berlin(2026, 1, 11, 3, 0), True),
    ("mon-sun closed", berlin(2026, 1, 11, 3, 0), False),
])
def test_is_open(schedule, at, expected):
    assert hours(schedule).is_open(at) is expected


@pytest.mark.parametrize(("schedule", "at", "expected"), [
    # Spring forward (2026-03-29 02:00 CET -> 03:00 CEST): 09:00 is 07:00 UTC on Monday.
    (WEEK, utc(2026, 3, 30, 7, 0), True),
    (WEEK, utc(2026, 3, 30, 6, 59), False),
    (WEEK, utc(2026, 3, 27, 8, 0), True),            # Friday before: +01:00
    # A night shift across the change is an hour shorter: 22:00 CET to 04:00 CEST.
    ("sat 22:00-04:00", utc(2026, 3, 29, 1, 59), True),
    ("sat 22:00-04:00", utc(2026, 3, 29, 2, 0), False),
    # Autumn back (2026-10-25 03:00 CEST -> 02:00 CET): an hour longer, until 04:00 CET.
    ("sat 22:00-04:00", utc(2026, 10, 24, 20, 0), True),   # 22:00 CEST
    ("sat 22:00-04:00", utc(2026, 10, 25, 2, 59), True),   # 03:59 CET
    ("sat 22:00-04:00", utc(2026, 10, 25, 3, 0), False),
    ("sat 22:00-04:00", utc(2026, 10, 24, 19, 59), False),
    # The repeated hour: 02:00-02:30 runs from the first 02:00 to the second 02:30.
    ("sun 02:00-02:30", utc(2026, 10, 25, 0, 0), True),    # 02:00 CEST
    ("sun 02:00-02:30", utc(2026, 10, 25, 1, 29), True),   # 02:29 CET
    ("sun 02:00-02:30", utc(2026, 10, 25, 1, 30), False),
    # A range inside the skipped hour never happens.
    ("sun 02:10-02:40", utc(2026, 3, 29, 1, 0), False),
    ("sun 02:10-02:40", utc(2026, 3, 29, 0, 59), False),
])
def test_is_open_across_berlin_dst(schedule, at, expected):
    assert hours(schedule).is_open(at) is expected


@pytest.mark.parametrize(("at", "expected"), [
    (utc(2026, 3, 9, 13, 0), True),     # Mon 09:00 EDT (changed on Sunday 2026-03-08)
    (utc(2026, 3, 9, 12, 59), False),
    (utc(2026, 3, 6, 14, 0), True),     # Fri 09:00 EST
    (utc(2026, 3, 6, 13, 59), False),
    (utc(2026, 11, 2, 14, 0), True),    # Mon 09:00 EST (changed on Sunday 2026-11-01)
    (utc(2026, 11, 2, 13, 30), False),
])
def test_is_open_across_new_york_dst(at, expected):
    assert hours(WEEK, "America/New_York").is_open(at) is expected


@pytest.mark.parametrize(("at", "expected"), [
    (berlin(2026, 12, 25, 12, 0), False),   # Friday holiday
    (berlin(2026, 12, 24, 12, 0), True),
    (berlin(2026, 12, 24, 23, 30), True),   # Thursday's night shift before the holiday...
    (berlin(2026, 12, 25, 0, 30), False),   # ...stops at the holiday's midnight
    (berlin(2026, 12, 25, 23, 0), False),   # the holiday's own night shift is cancelled...
    (berlin(2026, 12, 26, 1, 0), False),    # ...including its part on the next day
    (berlin(2026, 12, 28, 10, 0), True),
])
def test_holidays_close_the_whole_local_day(at, expected):
    office = hours("mon-fri 09:00-17:00; thu-fri 22:00-02:00", holidays="2026-12-25")
    assert office.is_open(at) is expected


# --- next opening ----------------------------------------------------------------------

@pytest.mark.parametrize(("schedule", "zone", "at", "expected"), [
    (WEEK, "Europe/Berlin", berlin(2026, 1, 5, 10, 15), berlin(2026, 1, 5, 10, 15)),
    (WEEK, "Europe/Berlin", berlin(2026, 1, 5, 7, 0), berlin(2026, 1, 5, 9, 0)),
    (WEEK, "Europe/Berlin", berlin(2026, 1, 5, 17, 0), berlin(2026, 1, 6, 9, 0)),
    (WEEK, "Europe/Berlin", berlin(2026, 1, 10, 15, 0), berlin(2026, 1, 12, 9, 0)),
    (WEEK, "Europe/Berlin", utc(2026, 3, 28, 19, 0), utc(2026, 3, 30, 7, 0)),
    (WEEK, "Europe/Berlin", utc(2026, 10, 24, 18, 0), utc(2026, 10, 26, 8, 0)),
    (WEEK, "America/New_York", utc(2026, 3, 7, 20, 0), utc(2026, 3, 9, 13, 0)),
    ("sun 02:30-05:00", "Europe/Berlin", berlin(2026, 3, 29, 0, 0), utc(2026, 3, 29, 1, 0)),
    ("sun 02:30-05:00", "Europe/Berlin", berlin(2026, 10, 25, 0, 0), utc(2026, 10, 25, 0, 30)),
    ("fri 22:00-02:00", "Europe/Berlin", berlin(2026, 1, 10, 3, 0), berlin(2026, 1, 16, 22, 0)),
    ("mon 20:00-24:00", "Europe/Berlin", berlin(2026, 1, 6, 0, 0), berlin(2026, 1, 12, 20, 0)),
])
def test_next_opening(schedule, zone, at, expected):
    opening = hours(schedule, zone).next_opening(at)
    # Compare in UTC: Python never calls a time in a repeated hour equal to another zone's.
    assert opening.astimezone(UTC) == expected.astimezone(UTC)
    assert opening.tzinfo == ZoneInfo(zone)


def test_next_opening_skips_holidays():
    office = hours(WEEK, holidays="2026-12-24 2026-12-25 2026-12-26 2026-12-28")
    assert office.next_opening(berlin(2026, 12, 23, 18, 0)) == berlin(2026, 12, 29, 9, 0)


def test_next_opening_past_a_long_run_of_holidays():
    run = " ".join(f"2026-08-{day:02d}" for day in range(1, 32))
    office = hours("wed 09:00-10:00", holidays=run)
    assert office.next_opening(berlin(2026, 7, 30, 12, 0)) == berlin(2026, 9, 2, 9, 0)


def test_never_open():
    office = hours("mon-sun closed")
    assert office.next_opening(berlin(2026, 1, 5, 9, 0)) is None
    assert office.describe_next_opening(berlin(2026, 1, 5, 9, 0)) == ""


@pytest.mark.parametrize(("schedule", "zone", "at", "expected"), [
    (WEEK, "Europe/Berlin", berlin(2026, 1, 9, 18, 0), "Saturday 10:00 (Europe/Berlin)"),
    (WEEK, "Europe/Berlin", berlin(2026, 1, 10, 15, 0), "Monday 09:00 (Europe/Berlin)"),
    (WEEK, "Europe/Berlin", utc(2026, 1, 11, 23, 30), "Monday 09:00 (Europe/Berlin)"),
    (WEEK, "America/New_York", berlin(2026, 1, 5, 9, 0), "Monday 09:00 (America/New_York)"),
    ("mon 09:00-10:00", "Europe/Berlin", berlin(2026, 1, 5, 11, 0),
     "Monday 12 January 09:00 (Europe/Berlin)"),
    ("sun 02:30-05:00", "Europe/Berlin", berlin(2026, 3, 29, 0, 0),
     "Sunday 03:00 (Europe/Berlin)"),
])
def test_describe_next_opening(schedule, zone, at, expected):
    assert hours(schedule, zone).describe_next_opening(at) == expected


def test_describe_includes_the_date_when_more_than_six_days_away():
    office = hours(WEEK, holidays="2026-12-28 2026-12-29 2026-12-30 2026-12-31 2027-01-01 "
                                  "2027-01-02")
    assert office.describe_next_opening(berlin(2026, 12, 26, 15, 0)) == (
        "Monday 4 January 09:00 (Europe/Berlin)")
    assert office.describe_next_opening(berlin(2026, 12, 27, 15, 0)) == (
        "Monday 4 January 09:00 (Europe/Berlin)")
    assert hours(WEEK).describe_next_opening(berlin(2026, 12, 27, 15, 0)) == (
        "Monday 09:00 (Europe/Berlin)")
