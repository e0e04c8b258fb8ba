"""Inbox at scale: 100k sessions and 1M timeline rows, first page and searches, p95.

    .venv/bin/python bench/inbox.py [--sessions 100000] [--timeline 1000000] [--repeat 50]

Builds a database with create_app (real migrations), fills it with plain sqlite3
executemany (contacts, sessions, two messages per session, timeline rows), then times
pages in-process with Flask's test client, signed in as an admin: the first page, a
status filter, an older page, searches by email, conversation id and message text, and
one session's page. Each URL once to warm up, then --repeat times.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import sqlite3
import tempfile
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

from common import machine, summary, verdict

TARGET_P95_MS = 150.0
PASSWORD = "bench password 1234"
STATUSES = ("resolved",) * 7 + ("open",) * 2 + ("handed_off",)
KINDS = ("event", "decision", "call", "call", "decision", "event", "call", "decision",
         "duplicate", "call")
TEXTS = ("Hi, where is my order? It has been a week.", "How do I return an item?",
         "My password reset link does not work", "Do you ship to Canada?",
         "I want to talk to a person please", "배송은 언제 도착하나요? 📦")


def stamp(moment: datetime) -> str:
    """DATETIME as SQLAlchemy stores it in SQLite."""
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")


def fill(database: Path, sessions: int, timeline: int, contacts: int) -> dict:
    """Bulk insert; returns a few rows to search for."""
    rng = random.Random(7)
    start = datetime(2026, 1, 1)
    step = timedelta(days=90) / sessions
    cids = [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(sessions)]
    per_session = max(1, timeline // sessions)
    connection = sqlite3.connect(database)
    connection.execute("PRAGMA synchronous=OFF")
    with connection:
        connection.executemany(
            "INSERT INTO contact (id, email, name, phone, created_at) VALUES (?, ?, ?, ?, ?)",
            ((n, f"customer{n}@example.test", f"Casey Customer{n}", None, stamp(start))
             for n in range(1, contacts + 1)))
        connection.executemany(
            "INSERT INTO session (id, conversation_id, app_id, channel_id,"
            " freshchat_conversation_id, freshchat_channel_id, status, routing_mode,"
            " assigned_agent_id, assigned_agent_name, awaiting_reply, handoff_reason,"
            " contact_id, freshchat_user_id, freshchat_url, created_at, updated_at,"
            " last_customer_message_at, last_ai_reply_at)"
            " VALUES (?, ?, 'app-1', 'channel-1', ?, '500100', ?, 'auto', 'agent-ai', 'Aiden',"
            " 0, ?, ?, ?, ?, ?, ?, ?, ?)",
            ((n, cids[n - 1], str(100_000 + n), status, reason, (n * 7919) % contacts + 1,
              f"user-{n}", f"https://acme.freshchat.com/a/app-1/open/conversation/{cids[n - 1]}",
              moment, moment, moment, moment)
             for n in range(1, sessions + 1)
             for status in (STATUSES[n % len(STATUSES)],)
             for reason in ("low confidence" if status == "handed_off" else None,)
             for moment in (stamp(start + step * n),)))
        connection.executemany(
            "INSERT INTO message (session_id, freshchat_message_id, author, actor_id, text,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?)",
            ((n, f"m-{n}-{author}", author, None, text, stamp(start + step * n))
             for n in range(1, sessions + 1)
             for author, text in (("customer", TEXTS[n % len(TEXTS)]),
                                  ("ai", "Orders ship within 1 business day."))))
        detail = json.dumps({"method": "POST", "status": 201, "latency_ms": 112.5})
        connection.executemany(
            "INSERT INTO timeline_entry (conversation_id, at, kind, summary, detail)"
            " VALUES (?, ?, ?, ?, ?)",
            ((cids[(row // per_session) % sessions], stamp(start + step * (row // per_session)),
              KINDS[row % len(KINDS)], f"{KINDS[row % len(KINDS)]} number {row % per_session}",
              detail if KINDS[row % len(KINDS)] == "call" else None)
             for row in range(timeline)))
    connection.execute("ANALYZE")
    connection.close()
    some = sessions - sessions // 3  # an older session: not on the first page
    return {"session_id": some, "conversation_id": cids[some - 1],
            "email": f"customer{(some * 7919) % contacts + 1}@example.test"}


def signed_in_client(app):
    from opencx_bridge.store import users

    with app.app_context():
        users.create("bench-admin@example.test", PASSWORD, "admin")
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    answer = client.post("/login", data={"email": "bench-admin@example.test",
                                         "password": PASSWORD, "csrf_token": token})
    if answer.status_code != 302:
        raise RuntimeError(f"sign-in failed: {answer.status_code}")
    return client


def time_url(client, url: str, repeat: int) -> tuple[dict, str]:
    first = client.get(url)
    if first.status_code != 200:
        raise RuntimeError(f"{url} answered {first.status_code}")
    seconds = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(url)
        response.get_data()
        seconds.append(time.perf_counter() - started)
    return summary(seconds), first.get_data(as_text=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=100_000)
    parser.add_argument("--timeline", type=int, default=1_000_000)
    parser.add_argument("--contacts", type=int, default=60_000)
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()

    print(f"inbox benchmark on {machine()}")
    print(f"target: p95 < {TARGET_P95_MS:.0f} ms for the first page and a search")
    folder = Path(tempfile.mkdtemp(prefix="opencx-bench-inbox-"))
    os.environ["OPENCX_INSTANCE_PATH"] = str(folder / "instance")
    try:
        from opencx_bridge import create_app
        from opencx_bridge.extensions import db

        database = folder / "bridge.sqlite3"
        app = create_app({"WORKER": False, "SECRET_KEY": "bench-secret", "LOG_LEVEL": "WARNING",
                          "DATABASE_URL": f"sqlite:///{database}"})
        with app.app_context():
            db.engine.dispose()
        started = time.perf_counter()
        probe = fill(database, args.sessions, args.timeline, args.contacts)
        print(f"filled {args.sessions} sessions, {args.contacts} contacts, "
              f"{2 * args.sessions} messages, {args.timeline} timeline rows in "
              f"{time.perf_counter() - started:.1f} s "
              f"({database.stat().st_size / 2**20:.0f} MiB)")
        client = signed_in_client(app)
        cases = [
            ("first page", "/", True),
            ("search by email", f"/?q={probe['email']}", True),
            ("search by conversation id", f"/?q={probe['conversation_id']}", True),
            ("status filter (handed off)", "/?status=handed_off", False),
            ("older page (before=)", f"/?before={probe['session_id']}", False),
            ("search by message text", "/?q=password+reset", False),
            ("one session's page", f"/sessions/{probe['session_id']}", False),
        ]
        print(f"\n{'page':<28} {'p50 ms':>7} {'p95 ms':>7} {'max ms':>7}  p95<150ms")
        notes = []
        for name, url, targeted in cases:
            figures, html = time_url(client, url, args.repeat)
            mark = verdict(figures["p95"] < TARGET_P95_MS) if targeted else "(no target)"
            print(f"{name:<28} {figures['p50']:>7.1f} {figures['p95']:>7.1f} "
                  f"{figures['max']:>7.1f}  {mark}")
            if "conversation id" in name and (f"#{probe['session_id']}<" not in html
                                              or html.count("<tr") > 3):
                notes.append("?q= did not narrow the list to the one session: the search may "
                             "not exist yet in this version; the figure is the unfiltered page")
        for note in notes:
            print("note:", note)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
