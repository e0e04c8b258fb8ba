"""Outcomes at scale: 100k sessions and 1M timeline rows; the overview, the report and the
CSV export.

    .venv/bin/python bench/outcomes.py [--sessions 100000] [--timeline 1000000] [--repeat 10]

Fills a database as bench/inbox.py does (real migrations, then plain sqlite3), spread over
the last 90 days, and stamps each session's outcome moments with a realistic mix. Then
times, in-process: `report.build` for 30 days, GET /overview?period=30d signed in, and the
export of every session (its peak Python memory by tracemalloc, and the time). The
ceiling each is compared with is measured in the same run: a raw sqlite3 read of the same
rows and columns the report reads (no ORM, no Flask), the least any implementation pays.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sqlite3
import statistics
import tempfile
import time
import tracemalloc
from datetime import datetime, timedelta
from pathlib import Path

from common import machine, verdict
from inbox import fill, signed_in_client, stamp

OVERVIEW_MS, REPORT_MS = 500.0, 2000.0
MIX = (("ai_resolved", 45), ("handed_off", 25), ("taken_over", 8), ("reopened", 4),
       ("open", 18))
KINDS = ("human_asked", "low_confidence", "topic", "frustration", "ai_error", "office_hours")


def stamp_outcomes(database: Path, sessions: int) -> None:
    """Move the sessions into the last 90 days and give each an outcome's moments."""
    rng = random.Random(11)
    now = datetime.utcnow()
    choices = [name for name, weight in MIX for _ in range(weight)]
    rows = []
    for n in range(1, sessions + 1):
        created = now - timedelta(days=90) * (1 - n / sessions)
        outcome = rng.choice(choices)
        reply = created + timedelta(seconds=rng.uniform(2, 40))
        resolved = created + timedelta(minutes=rng.uniform(5, 60))
        handed = created + timedelta(minutes=1) if outcome == "handed_off" else None
        taken = created + timedelta(minutes=2) if outcome == "taken_over" else None
        rows.append((
            stamp(created), stamp(created), stamp(reply), (reply - created).total_seconds(),
            stamp(taken) if taken else None,
            stamp(handed or taken) if handed or taken else None,
            rng.choice(KINDS) if handed else "taken_over" if taken else None,
            stamp(resolved) if outcome in ("ai_resolved", "reopened") else None,
            10.0 if outcome == "reopened" else None, rng.randint(2, 12),
            "resolved" if outcome == "ai_resolved" else "open", n))
    connection = sqlite3.connect(database)
    with connection:
        connection.executemany(
            "UPDATE session SET created_at = ?, first_customer_message_at = ?,"
            " first_ai_reply_at = ?, first_reply_seconds = ?, first_human_message_at = ?,"
            " handed_off_at = ?, handoff_kind = ?, first_resolved_at = ?,"
            " reopened_after_hours = ?, message_count = ?, status = ? WHERE id = ?", rows)
    connection.execute("ANALYZE")
    connection.close()


def raw_read(database: Path, since: datetime) -> float:
    """The ceiling: the report's columns of the same rows, read by plain sqlite3."""
    connection = sqlite3.connect(database)
    started = time.perf_counter()
    rows = connection.execute(
        "SELECT created_at, handoff_kind, first_reply_seconds, message_count,"
        " first_resolved_at, first_ai_reply_at, first_human_message_at, handed_off_at,"
        " reopened_after_hours FROM session WHERE created_at >= ?", (stamp(since),)).fetchall()
    seconds = time.perf_counter() - started
    connection.close()
    assert rows
    return seconds


def timed(call, repeat: int) -> float:
    call()  # warm up
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        runs.append(time.perf_counter() - started)
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=100_000)
    parser.add_argument("--timeline", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    print(f"outcomes benchmark on {machine()}")
    print(f"targets: overview (30 days) < {OVERVIEW_MS:.0f} ms, report < {REPORT_MS:.0f} ms, "
          "export memory flat")
    folder = Path(tempfile.mkdtemp(prefix="opencx-bench-outcomes-"))
    os.environ["OPENCX_INSTANCE_PATH"] = str(folder / "instance")
    try:
        from opencx_bridge import create_app
        from opencx_bridge.extensions import db
        from opencx_bridge.outcomes import export, period, report

        database = folder / "bridge.sqlite3"
        app = create_app({"WORKER": False, "SECRET_KEY": "bench-secret", "LOG_LEVEL": "WARNING",
                          "DATABASE_URL": f"sqlite:///{database}"})
        with app.app_context():
            db.engine.dispose()
        started = time.perf_counter()
        fill(database, args.sessions, args.timeline, max(1, args.sessions * 3 // 5))
        stamp_outcomes(database, args.sessions)
        print(f"filled {args.sessions} sessions and {args.timeline} timeline rows in "
              f"{time.perf_counter() - started:.1f} s")
        with app.app_context():
            chosen = period.last_days(30, period.team_zone(), datetime.utcnow())
            numbers = report.build(chosen, 72.0)
            print(f"30 days: {numbers['conversations']} conversations, "
                  f"{numbers['ai_resolved']} AI-resolved, {numbers['handed_off']} handed off")
            report_s = timed(lambda: report.build(chosen, 72.0), args.repeat)
        ceiling_s = timed(lambda: raw_read(database, chosen.since), args.repeat)
        client = signed_in_client(app)
        overview_s = timed(lambda: client.get("/overview?period=30d").get_data(), args.repeat)

        print(f"\n{'what':<34} {'median ms':>10} {'× raw read':>11}  target")
        print(f"{'raw sqlite3 read (the ceiling)':<34} {ceiling_s * 1000:>10.1f} {1:>11.2f}")
        print(f"{'report.build, 30 days':<34} {report_s * 1000:>10.1f} "
              f"{report_s / ceiling_s:>11.2f}  {verdict(report_s * 1000 < REPORT_MS)}")
        print(f"{'GET /overview?period=30d':<34} {overview_s * 1000:>10.1f} "
              f"{overview_s / ceiling_s:>11.2f}  {verdict(overview_s * 1000 < OVERVIEW_MS)}")

        for limit in (args.sessions // 10, None):
            with app.app_context():
                tracemalloc.start()
                started = time.perf_counter()
                lines = export_lines(export, limit)
                seconds = time.perf_counter() - started
                peak = tracemalloc.get_traced_memory()[1]
                tracemalloc.stop()
            print(f"export of {lines} sessions: {seconds:.1f} s, peak Python memory "
                  f"{peak / 2**20:.1f} MiB")
        print("(flat memory: the peak for all sessions is close to the peak for a tenth)")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def export_lines(export, limit: int | None) -> int:
    """Stream the export (the first `limit` sessions, or all); the rows written."""
    lines = -1  # the header
    for chunk in export.csv_chunks(export.rows(72.0, None, None)):
        lines += chunk.count("\n")
        if limit is not None and lines >= limit:
            break
    return lines


if __name__ == "__main__":
    main()
