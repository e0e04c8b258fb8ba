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
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests
from common import Bench, machine, percentile, verdict
from end_to_end import TimedStandin

from opencx_bridge.outbox.pacing import bucket_shape

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


PASSWORD = "bench password 1234"


def dashboard(bench: Bench) -> requests.Session:
    """A signed-in admin's browser session on the bridge."""
    bench.bridge.cli("users", "create", "bench@example.test", "--role", "admin",
                     "--password", PASSWORD)
    http = requests.Session()
    page = http.get(bench.bridge.url + "/login", timeout=10).text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    http.post(bench.bridge.url + "/login", timeout=10, data={
        "email": "bench@example.test", "password": PASSWORD, "csrf_token": token})
    return http


class Watcher(threading.Thread):
    """While the burst is served: when the inbox first shows every chat as waiting, how
    long the Diagnostics page takes, and when its processing_backlog check warns."""

    def __init__(self, bench: Bench, http: requests.Session, chats: int):
        super().__init__(daemon=True)
        self.url, self.http, self.chats = bench.bridge.url, http, chats
        self.started = time.perf_counter()
        self.all_waiting_after: float | None = None
        self.diagnostics_ms: list[float] = []
        self.warned_after: float | None = None
        self.done = threading.Event()

    def run(self) -> None:
        next_diagnostics = 0.0
        while not self.done.is_set():
            now = time.perf_counter() - self.started
            if self.all_waiting_after is None:
                page = self.http.get(self.url + "/?status=waiting", timeout=30).text
                found = re.search(r'data-count="waiting">(\d+)', page)
                if found and int(found.group(1)) >= self.chats:
                    self.all_waiting_after = now
            if now >= next_diagnostics:
                begun = time.perf_counter()
                page = self.http.get(self.url + "/diagnostics", timeout=30).text
                self.diagnostics_ms.append((time.perf_counter() - begun) * 1000)
                row = re.search(r'id="check-processing_backlog" class="check (\w+)"', page)
                if row and row.group(1) == "warn" and self.warned_after is None:
                    self.warned_after = now
                next_diagnostics = now + 5
            self.done.wait(0.2)


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

        watcher = Watcher(bench, dashboard(bench), args.chats)
        first_call = time.time()
        watcher.start()
        with ThreadPoolExecutor(max_workers=8) as pool:
            sent = list(pool.map(one, range(args.chats)))
        deadline = time.monotonic() + 10 * args.window + 60
        waits = []
        for n, cid in enumerate(cids):
            reply = st.wait_reply(cid, max(0.0, deadline - time.monotonic()))
            waits.append(None if reply is None else reply[0] - sent[n])
        bench.bridge.catch_up(5 * args.window)  # notes and the rest
        backlog_end = time.time()
        watcher.done.set()
        watcher.join(30)
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
    shown = watcher.all_waiting_after
    print(f"\ninbox: every chat shown as waiting {shown:.1f} s after the first webhook"
          if shown is not None else "\ninbox: never showed every chat as waiting")
    slowest = max(watcher.diagnostics_ms, default=float("nan"))
    print(f"diagnostics page during the burst: {len(watcher.diagnostics_ms)} loads, slowest "
          f"{slowest:.0f} ms ({verdict(slowest < 1000)} < 1 s); processing_backlog warned "
          + (f"{watcher.warned_after:.0f} s in" if watcher.warned_after is not None
             else "never (it warns once the oldest event waited a minute)"))
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
        # The ceiling: first come, first served at 3 calls before each first reply, the
        # bucket's burst at once and then its refill rate (outbox/pacing.py).
        burst, refill = bucket_shape(args.rate_limit)
        ideal = sorted(max(0.0, 3 * k - burst) / (refill / args.window)
                       for k in range(1, args.chats + 1))
        i50, imax = percentile(ideal, 50), ideal[-1]
        print(f"  the ceiling (first come, first served, 3 calls each, the bucket's rate): "
              f"p50 {i50:.1f} s, max {imax:.1f} s; measured/ceiling: p50 {p50 / i50:.2f}×, "
              f"max {worst / imax:.2f}×")
        marks = sorted({0, *range(9, args.chats, 10), args.chats - 1})
        print("  by arrival: " + ", ".join(
            f"#{n + 1} {waits[n]:.0f} s" for n in marks if waits[n] is not None))
        print(f"  median within 2 min: {verdict(p50 * scale <= 120)}; every one within "
              f"3.5 min: {verdict(worst * scale <= 210 and len(answered) == args.chats)}")


if __name__ == "__main__":
    main()
