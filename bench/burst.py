"""A burst of new chats under the plan's rate limit: calls per conversation, budget use per
window, time to first reply.

    .venv/bin/python bench/burst.py [--chats 60] [--rate-limit 60] [--window 60]
                                    [--follow-ups 10] [--handoffs 5]

The stand-in enforces the limit as Freshchat does (a sliding window: a call over it gets
429) and logs every call. `--chats` new conversations write at once (the last `--handoffs`
of them ask for a human); once all have their first reply, `--follow-ups` of the answered
ones write again. `--window` shrinks the limit's window on both sides (bridge and
stand-in) for a quicker run: the figures are then given in that window's units as well.
Prints calls per conversation (new, follow-up, handoff) from the stand-in's log, the calls
in each full window while backlogged against the limit (the ceiling), 429s seen, and the
time to first reply p50/p95/max.
"""

from __future__ import annotations

import argparse
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests
from common import Bench, machine, percentile, verdict
from end_to_end import TimedStandin

QUESTIONS = ("How long does shipping take?", "How do I reset my password?",
             "What are your opening hours?", "How do I return an item and get a refund?")
HUMAN = "I want to talk to a human please"


def send(bench: Bench, cid: str, text: str, http: requests.Session) -> float:
    raw, signature = bench.signed(bench.customer_message(cid, text))
    started = time.perf_counter()
    answer = http.post(bench.webhook_url, data=raw, timeout=30, headers={
        "Content-Type": "application/json", "X-Freshchat-Signature": signature})
    answer.raise_for_status()
    return started


def calls_of(st, cid: str, since: float = 0.0) -> list[dict]:
    user = st.conversation(cid)["users"][0]["id"]
    return [c for c in st.calls if c["at"] >= since and (
        f"/conversations/{cid}" in c["path"] or c["path"] == f"/v2/users/{user}")]


def describe(calls: list[dict]) -> str:
    kinds = {}
    for call in calls:
        what = call["method"] + " " + ("/users" if "/users/" in call["path"] else
                                       "/messages" if call["path"].endswith("/messages") else
                                       "/conversations")
        kinds[what] = kinds.get(what, 0) + 1
    return ", ".join(f"{n}× {what}" for what, n in sorted(kinds.items()))


def per_window(times: list[float], start: float, end: float, window: float) -> list[int]:
    """Calls in each full window [start + k·window, start + (k+1)·window) before `end`."""
    counts = []
    edge = start
    while edge + window <= end:
        counts.append(sum(1 for t in times if edge <= t < edge + window))
        edge += window
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chats", type=int, default=60)
    parser.add_argument("--rate-limit", type=int, default=60)
    parser.add_argument("--window", type=float, default=60.0, help="seconds the limit counts")
    parser.add_argument("--follow-ups", type=int, default=10)
    parser.add_argument("--handoffs", type=int, default=5)
    args = parser.parse_args()
    scale = 60.0 / args.window  # report minutes of a 60 s window
    print(f"burst benchmark on {machine()}")
    print(f"{args.chats} new chats at once, plan limit {args.rate_limit} calls per "
          f"{args.window:g} s; targets (60 s window): every first reply within 3.5 min, "
          "median within 2 min, no 429, ≥ 95 % of the limit used in each full window while "
          "backlogged, ≤ 3 calls per new chat, 1 per follow-up, ≤ 3 writes + 1 read per handoff")
    st = TimedStandin()
    st.rate_limit_per_minute = args.rate_limit
    st.rate_window_seconds = args.window
    with Bench(standin=st, rate_limit_per_minute=args.rate_limit,
               handoff_confidence_threshold=0.0,
               OPENCX_FRESHCHAT_RATE_WINDOW_SECONDS=str(args.window),
               OPENCX_FRESHCHAT_CHECK_EVERY_SECONDS="0") as bench:
        time.sleep(args.window)  # the start-up calls (Test & Save's) leave the window
        cids = [bench.new_conversation(n) for n in range(args.chats)]
        texts = [HUMAN if n >= args.chats - args.handoffs else QUESTIONS[n % len(QUESTIONS)]
                 for n in range(args.chats)]
        local = threading.local()

        def one(n: int) -> float:
            http = getattr(local, "http", None) or requests.Session()
            local.http = http
            return send(bench, cids[n], texts[n], http)

        first_call = time.time()
        with ThreadPoolExecutor(max_workers=8) as pool:
            sent = list(pool.map(one, range(args.chats)))
        deadline = time.monotonic() + 10 * args.window + 60
        waits = []
        for n, cid in enumerate(cids):
            reply = st.wait_reply(cid, max(0.0, deadline - time.monotonic()))
            waits.append(None if reply is None else reply[0] - sent[n])
        bench.bridge.catch_up(5 * args.window)  # notes and the rest
        backlog_end = time.time()
        burst_calls = {cid: calls_of(st, cid) for cid in cids}

        follow = [cid for n, cid in enumerate(cids[: args.chats - args.handoffs])
                  if waits[n] is not None][: args.follow_ups]
        mark = time.time()
        for cid in follow:
            send(bench, cid, "Thanks! And do you ship abroad?", requests.Session())
        bench.bridge.catch_up(5 * args.window)
        time.sleep(1)
        follow_calls = [calls_of(st, cid, mark) for cid in follow]
        rejected = st.rejected_429

    answered = [w for w in waits if w is not None]
    new = [burst_calls[c] for n, c in enumerate(cids) if n < args.chats - args.handoffs]
    handed = [burst_calls[c] for n, c in enumerate(cids) if n >= args.chats - args.handoffs]
    print("\ncalls per conversation (stand-in's log):")
    for name, group in (("new, answered", new), ("new, handed off", handed),
                        ("follow-up", follow_calls)):
        if group:
            counts = sorted(len(calls) for calls in group)
            print(f"  {name:<16} max {counts[-1]}, median {counts[len(counts) // 2]}  "
                  f"({describe(group[0])})")
    times = sorted(c["at"] for c in st.calls if c["at"] >= first_call and c["at"] <= backlog_end)
    windows = per_window(times, first_call, backlog_end, args.window)
    print(f"\nbudget use per full window while backlogged (limit {args.rate_limit}): "
          + ", ".join(f"{n} ({n / args.rate_limit:.0%})" for n in windows))
    low = [n for n in windows if n < 0.95 * args.rate_limit]
    print(f"  ≥ 95 % in every full window: {verdict(not low and bool(windows))}; "
          f"429 answers from the stand-in: {rejected} ({verdict(rejected == 0)})")
    if answered:
        p50, p95, worst = (percentile(answered, p) for p in (50, 95, 100))
        print(f"\ntime to first reply over {len(answered)}/{args.chats} chats: "
              f"p50 {p50:.1f} s, p95 {p95:.1f} s, max {worst:.1f} s"
              + (f"  (= {p50 * scale / 60:.2f} / {p95 * scale / 60:.2f} / "
                 f"{worst * scale / 60:.2f} min at a 60 s window)" if scale != 1 else ""))
        marks = sorted({0, *range(9, args.chats, 10), args.chats - 1})
        print("  by arrival: " + ", ".join(
            f"#{n + 1} {waits[n]:.0f} s" for n in marks if waits[n] is not None))
        print(f"  median within 2 min: {verdict(p50 * scale <= 120)}; every one within "
              f"3.5 min: {verdict(worst * scale <= 210 and len(answered) == args.chats)}")


if __name__ == "__main__":
    main()
