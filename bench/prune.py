"""Pruning 1M expired dedup keys while the intake keeps answering: how long does it stall?

    .venv/bin/python bench/prune.py [--keys 1000000] [--rate 20] [--seconds 15]

Starts the stand-in and `flask serve` (worker on), inserts --keys dedup keys older than
the dedup window straight into its SQLite file, then sends signed webhooks at --rate per
second from a separate process (4 client threads) while this process runs
opencx_bridge.scheduler.prune.prune_dedup_keys() against the same database, as the worker's
housekeeping does. Reports the prune's duration and the intake's longest answer during it.
The default rate is one the worker keeps up with, so the answers before and after the
prune show the intake's usual latency and the pause is the prune's own.
"""

from __future__ import annotations

import argparse
import itertools
import os
import sqlite3
import time
from datetime import UTC, datetime, timedelta

from common import Bench, finish_load, machine, start_load, summary, verdict, write_requests

from opencx_bridge.scheduler.prune import PRUNE_BATCH

TARGET_PAUSE_MS = 100.0
CLIENTS = 4


def insert_old_keys(database, count: int) -> float:
    """`count` keys seen two days ago (the default window is 24 h); returns seconds taken."""
    old = (datetime.now(UTC) - timedelta(hours=48)).replace(tzinfo=None)
    seen_at = old.strftime("%Y-%m-%d %H:%M:%S.%f")
    started = time.perf_counter()
    connection = sqlite3.connect(database, timeout=60)
    with connection:
        connection.executemany("INSERT INTO dedup_key (key, seen_at) VALUES (?, ?)",
                               ((f"message:bench-old-{n:07d}", seen_at) for n in range(count)))
    connection.close()
    return time.perf_counter() - started


def prune_in_this_process(bench: Bench) -> tuple[float, float, int]:
    """Run the worker's prune against the bridge's database: (wall start, wall end, rows)."""
    os.environ["OPENCX_INSTANCE_PATH"] = str(bench.folder / "instance")
    from opencx_bridge import create_app
    from opencx_bridge.extensions import db
    from opencx_bridge.scheduler.prune import prune_dedup_keys

    app = create_app({"WORKER": False, "SECRET_KEY": "bench-secret", "LOG_LEVEL": "WARNING",
                      "AUTO_MIGRATE": False,
                      "DATABASE_URL": f"sqlite:///{bench.bridge.database}"})
    with app.app_context():
        db.session.execute(db.text("SELECT 1"))  # connect before the clock starts
        started = time.time()
        removed = prune_dedup_keys()
        ended = time.time()
        db.session.remove()
        db.engine.dispose()
    return started, ended, removed


def window(latencies: list[float]) -> str:
    figures = summary(latencies)
    return f"p50 {figures['p50']:.1f} ms, p99 {figures['p99']:.1f} ms, max {figures['max']:.0f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=1_000_000)
    parser.add_argument("--rate", type=float, default=20.0, help="webhooks per second")
    parser.add_argument("--seconds", type=float, default=15.0, help="length of the traffic")
    parser.add_argument("--lead", type=float, default=3.0,
                        help="seconds of traffic before the prune starts")
    args = parser.parse_args()

    print(f"prune benchmark on {machine()}")
    print(f"target: no intake answer slower than {TARGET_PAUSE_MS:.0f} ms while "
          f"{args.keys} expired dedup keys are pruned")
    with Bench() as bench:
        conversations = [bench.new_conversation(n) for n in range(50)]
        bench.bridge.catch_up(10)  # the worker's own first housekeeping has run by now
        took = insert_old_keys(bench.bridge.database, args.keys)
        print(f"inserted {args.keys} expired keys in {took:.1f} s")
        chats = itertools.cycle(conversations)
        count = int(args.rate * args.seconds)
        requests_file = bench.folder / "webhooks.jsonl"
        write_requests(requests_file, (bench.signed(bench.customer_message(next(chats), "hi"))
                                       for _ in range(count)))
        load = start_load(bench.bridge.port, bench.webhook_path, threads=CLIENTS, count=count,
                          seconds=args.seconds, requests_file=requests_file, rate=args.rate,
                          expect='"accepted"')
        time.sleep(args.lead)
        started, ended, removed = prune_in_this_process(bench)
        report = finish_load(load, timeout=args.seconds + 60)
        left = bench.bridge.query(
            "SELECT count(*) FROM dedup_key WHERE key LIKE 'message:bench-old-%'")
        errors = bench.bridge.errors_logged()

    spans = list(zip(report["sent_at"], report["latencies"], strict=True))
    during = [lat for sent, lat in spans if sent < ended and sent + lat > started]
    before = [lat for sent, lat in spans if sent + lat <= started]
    after = [lat for sent, lat in spans if sent >= ended]
    duration = ended - started
    worst = max(during, default=0.0) * 1000
    in_window = summary(during)
    print(f"\nprune_dedup_keys(): removed {removed} keys in {duration * 1000:.0f} ms "
          f"(left behind: {left[0][0]})")
    print(f"intake: {report['sent']} webhooks at {args.rate:g}/s from {CLIENTS} client threads, "
          f"answers {report['statuses']}")
    print(f"  before the prune: {len(before)} requests, {window(before)}")
    print(f"  during the prune: {len(during)} requests, p50 {in_window['p50']:.1f} ms, "
          f"p99 {in_window['p99']:.1f} ms, longest answer {worst:.0f} ms   "
          f"no pause > {TARGET_PAUSE_MS:.0f} ms: {verdict(worst <= TARGET_PAUSE_MS)}")
    print(f"  after the prune:  {len(after)} requests, {window(after)}")
    slowest = sorted(spans, key=lambda span: span[1], reverse=True)[:5]
    print("  slowest answers (sent at, relative to the prune's start): " + ", ".join(
        f"{lat * 1000:.0f} ms at {sent - started:+.2f} s" for sent, lat in slowest))
    if ended > started + args.seconds - args.lead:
        print("note: the prune outlasted the traffic; raise --seconds to see its whole length")
    if worst > TARGET_PAUSE_MS:
        print(f"note: the prune deletes the keys in batches of {PRUNE_BATCH}, one transaction "
              f"each; an answer slower than {TARGET_PAUSE_MS:.0f} ms waited for something "
              f"else than one batch (see the times of the slowest answers)")
    print(f"ERROR lines in the bridge log: {errors}")


if __name__ == "__main__":
    main()
