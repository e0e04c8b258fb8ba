"""Intake throughput: signed webhooks at rising concurrency against `flask serve`.

    .venv/bin/python bench/intake.py [--levels 1,4,16,32] [--count 1000] [--seconds 8]

For each concurrency level a separate client process (bench/loadgen.py) first measures a
bare Flask hello-world under the same waitress and request threads (bench/hello.py, the
ceiling), then the bridge's GET /healthz (routing, a SELECT 1, JSON), then POSTs --count
signed message_create webhooks with unique message ids. The worker runs in the bridge as
in production: every accepted message is answered from the knowledge base through the
Freshchat stand-in, with no pacing. The whole series runs twice: with the stand-in
answering at once, then answering every API call 1 s late. Last, the bridge's peak
resident memory (VmHWM) under this load. For diagnosis, --worker off measures the intake
with nothing processing the events, --worker separate with the worker in a `flask worker`
process of its own next to `serve`.
"""

from __future__ import annotations

import argparse
import itertools
import time

from common import Bench, HelloWorld, machine, run_load, summary, verdict, write_requests

TARGET_RATIO = 0.40  # of the hello-world ceiling
TARGET_P99_MS = 50.0
QUESTIONS = (
    "How long does shipping take?",
    "How do I return an item and get a refund?",
    "I forgot my password, how do I reset it?",
    "What are your opening hours?",
    "Hi, where is my order? It has been a week.",
    "배송은 언제 도착하나요? 📦",
)


def measure_level(bench: Bench, hello: HelloWorld, conversations: list[str], level: int,
                  args) -> dict:
    port, folder = bench.bridge.port, bench.folder
    ceiling = run_load(hello.port, "/", threads=level, count=args.count, seconds=args.seconds,
                       expect="hello")
    healthz = run_load(port, "/healthz", threads=level, count=args.count, seconds=args.seconds,
                       expect='"ok"')
    questions = itertools.cycle(QUESTIONS)
    chats = itertools.cycle(conversations)
    signed = (bench.signed(bench.customer_message(next(chats), next(questions)))
              for _ in range(args.count))
    requests_file = folder / f"webhooks-{level}.jsonl"
    write_requests(requests_file, signed)
    webhooks = run_load(port, bench.webhook_path, threads=level, count=args.count,
                        seconds=args.seconds, requests_file=requests_file,
                        expect='"accepted"')
    requests_file.unlink()
    return {"level": level, "ceiling": ceiling, "healthz": healthz, "webhooks": webhooks}


HEADER = ("clients", "sent", "accepted/s", "p50 ms", "p99 ms", "max ms", "hello/s",
          "healthz/s", "ratio", "healthz%", "ratio>=40%", "p99<50ms")
WIDTHS = (7, 5, 10, 7, 7, 7, 8, 9, 6, 8, 10, 8)


def show(rows: list[dict]) -> None:
    line = " ".join(f"{name:>{width}}" for name, width in zip(HEADER, WIDTHS, strict=True))
    print(line + "  other answers")
    for row in rows:
        hooks, ceiling = row["webhooks"], row["ceiling"]
        rate = hooks["ok"] / hooks["elapsed"]
        ceiling_rate = ceiling["ok"] / ceiling["elapsed"]
        healthz_rate = row["healthz"]["ok"] / row["healthz"]["elapsed"]
        lat = summary(hooks["latencies"])
        ratio = rate / ceiling_rate if ceiling_rate else 0.0
        healthz_ratio = healthz_rate / ceiling_rate if ceiling_rate else 0.0
        others = {k: v for k, v in hooks["statuses"].items() if k != "200"}
        if hooks["ok"] != hooks["statuses"].get("200", 0):
            others["200 but not accepted"] = hooks["statuses"].get("200", 0) - hooks["ok"]
        cells = (row["level"], hooks["sent"], f"{rate:.0f}", f"{lat['p50']:.1f}",
                 f"{lat['p99']:.1f}", f"{lat['max']:.1f}", f"{ceiling_rate:.0f}",
                 f"{healthz_rate:.0f}", f"{ratio:.0%}", f"{healthz_ratio:.0%}",
                 verdict(ratio >= TARGET_RATIO),
                 verdict(lat["p99"] < TARGET_P99_MS))
        line = " ".join(f"{cell:>{width}}" for cell, width in zip(cells, WIDTHS, strict=True))
        print(f"{line}  {others or '-'}")


def run_series(bench: Bench, hello: HelloWorld, conversations: list[str], levels: list[int],
               args, latency: float) -> list[dict]:
    bench.standin.latency = latency
    rows = []
    for level in levels:
        if args.worker == "off":
            rows.append(measure_level(bench, hello, conversations, level, args))
            continue
        events, items = bench.bridge.catch_up(args.settle, outbox=latency == 0)
        if events or items:
            print(f"  (before {level} client(s): worker still has {events} event(s) and "
                  f"{items} outbox row(s) open; measuring anyway)")
        rows.append(measure_level(bench, hello, conversations, level, args))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", default="1,4,16,32", help="client threads, comma list")
    parser.add_argument("--count", type=int, default=1000, help="requests per level and kind")
    parser.add_argument("--seconds", type=float, default=8.0, help="time cap per measurement")
    parser.add_argument("--conversations", type=int, default=100)
    parser.add_argument("--settle", type=float, default=20.0,
                        help="seconds to let the worker catch up between levels")
    parser.add_argument("--slow", type=float, default=1.0,
                        help="stand-in latency of the second series (0 skips it)")
    parser.add_argument("--threads", type=int, default=8, help="the bridge's request threads")
    parser.add_argument("--rate-limit", type=int, default=100_000,
                        help="freshchat_rate_limit_per_minute (default: no pacing; 60 is the "
                             "default plan's, where the worker makes one call a second)")
    parser.add_argument("--worker", choices=("on", "off", "separate"), default="on",
                        help="off: the intake alone, nothing processes the events; separate: "
                             "the worker in a `flask worker` process of its own (diagnosis)")
    args = parser.parse_args()
    levels = [int(x) for x in args.levels.split(",")]

    print(f"intake benchmark on {machine()}")
    print(f"targets: accepted/s >= {TARGET_RATIO:.0%} of a bare Flask hello-world under the "
          f"same waitress and threads, at the same concurrency; p99 < {TARGET_P99_MS:.0f} ms")
    started = time.monotonic()
    worker_on = args.worker != "off"
    env = {} if args.worker == "on" else {"OPENCX_WORKER": "0"}
    hello = HelloWorld(args.threads)
    with Bench(threads=args.threads, rate_limit_per_minute=args.rate_limit, **env) as bench:
        if args.worker == "separate":
            bench.bridge.start_worker()
        print(f"bridge pid {bench.bridge.pid}, {args.threads} request threads, "
              f"worker {args.worker}, {args.rate_limit} Freshchat calls a minute; "
              f"RSS after start {bench.bridge.rss_mib():.0f} MiB")
        conversations = [bench.new_conversation(n) for n in range(args.conversations)]
        what = ("answered by the knowledge base" if worker_on
                else "worker off: nothing processes the events")
        print(f"\nstand-in answers at once ({args.count} webhooks per level, "
              f"{args.conversations} conversations, {what}):")
        show(run_series(bench, hello, conversations, levels, args, 0.0))
        if args.slow and worker_on:
            events, items = bench.bridge.catch_up(60)
            print(f"\nstand-in answers every call {args.slow:g} s late "
                  f"(worker backlog before: {events} event(s), {items} outbox row(s)):")
            show(run_series(bench, hello, conversations, levels, args, args.slow))
        peak = bench.bridge.peak_rss_mib()
        events, items = bench.bridge.backlog()
        errors = bench.bridge.errors_logged()
        print(f"\npeak RSS of the bridge process (VmHWM) under this load: {peak:.0f} MiB "
              f"(now {bench.bridge.rss_mib():.0f} MiB)")
        print(f"left for the worker at the end: {events} event(s), {items} outbox row(s); "
              f"ERROR lines in the bridge log: {errors}")
        if errors:
            print("\n".join(bench.bridge.log_text().splitlines()[-20:]))
        bench.standin.latency = 0.0
    hello.stop()
    print(f"took {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
