"""End-to-end latency: a customer's webhook in → the AI's reply stored by the Freshchat stand-in.

    .venv/bin/python bench/end_to_end.py [--conversations 200] [--parallel 1]

Each conversation is new and unassigned, so the bridge (auto handle all) claims it (PUT)
and then answers from the knowledge base (POST message), through a real `flask serve`
process and the stand-in over loopback HTTP. The rate limit is set high: no pacing. The
clock starts before the signed webhook is sent and stops when the stand-in stores the
AI's message (the stand-in notes the moment itself, so there is no polling delay).
"""

from __future__ import annotations

import argparse
import csv
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests
from common import AI_EMAIL, FAQ_CSV, Bench, machine, summary, verdict

from opencx_bridge.standin import Standin

TARGET_P50_MS = 50.0
WARM_UP = 5
QUESTIONS = (
    "How long does shipping take?",
    "How do I return an item and get a refund?",
    "How do I reset my password?",
    "What are your opening hours?",
)


class TimedStandin(Standin):
    """The stand-in, noting when the AI agent's first customer-visible message arrives."""

    def __init__(self) -> None:
        super().__init__()
        self.replies: dict[str, tuple[float, str]] = {}
        self.arrived = threading.Condition()

    def add_message(self, cid: str, **fields: Any) -> dict[str, Any]:
        message = super().add_message(cid, **fields)
        ai = self.ai_agent
        if (ai is not None and fields.get("actor_type") == "agent"
                and fields.get("actor_id") == ai["id"]
                and fields.get("message_type", "normal") == "normal"):
            text = message["message_parts"][0].get("text", {}).get("content", "")
            with self.arrived:
                self.replies.setdefault(cid, (time.perf_counter(), text))
                self.arrived.notify_all()
        return message

    def wait_reply(self, cid: str, timeout: float) -> tuple[float, str] | None:
        with self.arrived:
            self.arrived.wait_for(lambda: cid in self.replies, timeout)
            return self.replies.get(cid)


_local = threading.local()


def one_conversation(bench: Bench, number: int, timeout: float) -> dict[str, Any]:
    st: TimedStandin = bench.standin  # type: ignore[assignment]
    http = getattr(_local, "http", None)
    if http is None:
        http = _local.http = requests.Session()  # one keep-alive connection per thread
    cid = bench.new_conversation(number)
    raw, signature = bench.signed(bench.customer_message(cid, QUESTIONS[number % len(QUESTIONS)]))
    headers = {"Content-Type": "application/json", "X-Freshchat-Signature": signature,
               "X-Freshchat-Payload-Version": "v2", "X-Retry-Count": "0"}
    started = time.perf_counter()
    answer = http.post(bench.webhook_url, data=raw, headers=headers, timeout=30)
    acknowledged = time.perf_counter() - started
    reply = st.wait_reply(cid, timeout)
    return {"cid": cid, "status": answer.status_code, "ack": acknowledged,
            "latency": None if reply is None else reply[0] - started,
            "text": None if reply is None else reply[1]}


def calls_ms(bench: Bench, cids: list[str]) -> list[float]:
    """Per conversation, the summed latency of the bridge's Freshchat calls (its timeline)."""
    totals = []
    for cid in cids:
        rows = bench.bridge.query(
            "SELECT detail FROM timeline_entry WHERE conversation_id = :cid AND kind = 'call'",
            cid=cid)
        totals.append(sum(json.loads(detail).get("latency_ms") or 0.0 for (detail,) in rows))
    return totals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=200)
    parser.add_argument("--parallel", type=int, default=1,
                        help="conversations in flight at once (1 = one after the other)")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds to wait per reply")
    args = parser.parse_args()

    with FAQ_CSV.open(encoding="utf-8") as faq:
        kb_answers = {row["answer"] for row in csv.DictReader(faq)}
    print(f"end-to-end benchmark on {machine()}")
    print(f"target: p50 < {TARGET_P50_MS:.0f} ms from webhook sent to reply stored, no pacing")
    started = time.monotonic()
    with Bench(standin=TimedStandin()) as bench:
        print(f"bridge pid {bench.bridge.pid}, worker on; the AI answers as {AI_EMAIL}; "
              f"{args.conversations} new conversations, {args.parallel} at a time")
        for number in range(WARM_UP):
            one_conversation(bench, 10_000 + number, args.timeout)
        with ThreadPoolExecutor(max_workers=args.parallel) as pool:
            results = list(pool.map(
                lambda n: one_conversation(bench, n, args.timeout),
                range(args.conversations)))
        errors = bench.bridge.errors_logged()
        in_calls = calls_ms(bench, [r["cid"] for r in results if r["latency"] is not None])
    answered = [r["latency"] for r in results if r["latency"] is not None]
    from_kb = sum(1 for r in results if r["text"] in kb_answers)
    lat, ack = summary(answered), summary([r["ack"] for r in results])
    not_200 = sum(1 for r in results if r["status"] != 200)
    print(f"\nreplies received: {len(answered)}/{len(results)} "
          f"({from_kb} straight from the knowledge base, {len(answered) - from_kb} other "
          f"messages such as a handoff); webhooks not answered 200: {not_200}")
    print(f"webhook in → reply stored: p50 {lat['p50']:.1f} ms  p95 {lat['p95']:.1f} ms  "
          f"p99 {lat['p99']:.1f} ms  max {lat['max']:.1f} ms   "
          f"p50 < {TARGET_P50_MS:.0f} ms: {verdict(lat['p50'] < TARGET_P50_MS)}")
    calls = summary([ms / 1000 for ms in in_calls])
    own = summary([r["latency"] - ms / 1000 for r, ms in
                   zip([r for r in results if r["latency"] is not None], in_calls, strict=True)])
    print(f"  of which waiting for the stand-in's API (GET conversation, GET user, PUT, POST, "
          f"as timed by the bridge): p50 {calls['p50']:.1f} ms; the rest (intake, worker, "
          f"database): p50 {own['p50']:.1f} ms, p99 {own['p99']:.1f} ms")
    print(f"webhook acknowledged (200):  p50 {ack['p50']:.1f} ms  p99 {ack['p99']:.1f} ms")
    print(f"ERROR lines in the bridge log: {errors}")
    print(f"took {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
