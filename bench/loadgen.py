"""HTTP load from its own process: N client threads, keep-alive connections to 127.0.0.1.

    python bench/loadgen.py --port P --path /healthz --threads 4 --count 1000 --seconds 10
    python bench/loadgen.py --port P --path /webhooks/freshchat/T --requests-file F ...

Without --requests-file every request is a GET of --path; with it, each line of the file
({"body": ..., "signature": ...}, written by common.write_requests) is POSTed once, as a
signed Freshchat webhook. Stops after --count requests or --seconds, whichever comes
first; --rate paces the total (requests per second, 0 = as fast as the server answers).
Prints one JSON object: counts, elapsed time and every request's start and latency.
"""

from __future__ import annotations

import argparse
import http.client
import json
import threading
import time
from collections import Counter
from pathlib import Path


def load_requests(path: Path | None, count: int) -> list[tuple[bytes, str]] | None:
    if path is None:
        return None
    items = []
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            items.append((record["body"].encode("utf-8"), record["signature"]))
            if len(items) >= count:
                break
    return items


class Client(threading.Thread):
    def __init__(self, args: argparse.Namespace, number: int, items, start: threading.Barrier,
                 begin: list[float]):
        super().__init__(daemon=True)
        self.args, self.number, self.items = args, number, items
        self.start_barrier, self.begin = start, begin
        self.sent_at: list[float] = []
        self.latencies: list[float] = []
        self.statuses: Counter[str] = Counter()
        self.ok = 0

    def _connect(self) -> http.client.HTTPConnection:
        connection = http.client.HTTPConnection("127.0.0.1", self.args.port, timeout=60)
        connection.connect()
        return connection

    def _plan(self) -> list[int]:
        """Which request numbers this thread sends (every threads-th one)."""
        total = len(self.items) if self.items is not None else self.args.count
        return list(range(self.number, total, self.args.threads))

    def run(self) -> None:
        args = self.args
        connection = self._connect()
        interval = args.threads / args.rate if args.rate > 0 else 0.0
        plan = self._plan()
        self.start_barrier.wait()
        t0 = self.begin[0]
        deadline = t0 + args.seconds
        for k, index in enumerate(plan):
            if interval:
                due = t0 + k * interval + self.number * interval / args.threads
                pause = due - time.perf_counter()
                if pause > 0:
                    time.sleep(pause)
            if time.perf_counter() >= deadline:
                break
            connection = self._one(connection, index)

    def _one(self, connection: http.client.HTTPConnection, index: int):
        args = self.args
        if self.items is None:
            method, body, headers = "GET", None, {}
        else:
            body, signature = self.items[index]
            method = "POST"
            headers = {"Content-Type": "application/json", "X-Freshchat-Signature": signature,
                       "X-Freshchat-Payload-Version": "v2", "X-Retry-Count": "0"}
        wall = time.time()
        started = time.perf_counter()
        try:
            connection.request(method, args.path, body=body, headers=headers)
            response = connection.getresponse()
            text = response.read().decode("utf-8", "replace")
            status = response.status
            if response.getheader("Connection", "").lower() == "close":
                connection.close()
                connection = self._connect()
        except (OSError, http.client.HTTPException) as exc:
            self.latencies.append(time.perf_counter() - started)
            self.sent_at.append(wall)
            self.statuses[type(exc).__name__] += 1
            connection.close()
            return self._connect()
        self.latencies.append(time.perf_counter() - started)
        self.sent_at.append(wall)
        self.statuses[str(status)] += 1
        if status == 200 and args.expect in text:
            self.ok += 1
        return connection


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", required=True)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=0.0)
    parser.add_argument("--expect", default="", help="text a 200 answer must contain to count")
    parser.add_argument("--requests-file", type=Path)
    args = parser.parse_args()

    items = load_requests(args.requests_file, args.count)
    begin = [0.0]
    barrier = threading.Barrier(args.threads + 1)
    clients = [Client(args, n, items, barrier, begin) for n in range(args.threads)]
    for client in clients:
        client.start()
    begin[0] = time.perf_counter()
    barrier.wait()
    for client in clients:
        client.join(args.seconds + 90)
    elapsed = time.perf_counter() - begin[0]
    statuses: Counter[str] = Counter()
    for client in clients:
        statuses.update(client.statuses)
    report = {
        "threads": args.threads,
        "sent": sum(len(c.latencies) for c in clients),
        "ok": sum(c.ok for c in clients),
        "statuses": dict(statuses),
        "elapsed": elapsed,
        "latencies": [x for c in clients for x in c.latencies],
        "sent_at": [x for c in clients for x in c.sent_at],
    }
    print(json.dumps(report))


if __name__ == "__main__":
    main()
