"""CPU cost of one webhook inside the process, next to /healthz: where intake time goes.

    .venv/bin/python bench/intake_cost.py [--count 2000] [--profile cprofile|none]

No server, no worker, no network: Flask's test client against a fresh migrated SQLite file
with a connected integration row. Prints the mean time per request of each kind, and with
--profile cprofile the functions that took the most time over the webhooks.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import tempfile
import time
from pathlib import Path

from opencx_bridge.freshchat.signature import freshchat_armour, generate_private_key, sign

TOKEN = "bench-token"


def build_app(folder: Path):
    os.environ["OPENCX_INSTANCE_PATH"] = str(folder / "instance")
    from opencx_bridge import create_app
    from opencx_bridge.extensions import db
    from opencx_bridge.store import secrets_box
    from opencx_bridge.store.models import Integration

    app = create_app({"WORKER": False, "SECRET_KEY": "bench-secret", "LOG_LEVEL": "WARNING",
                      "DATABASE_URL": f"sqlite:///{folder / 'bridge.sqlite3'}"})
    key = generate_private_key()
    with app.app_context():
        db.session.add(Integration(id=1, status="connected",
                                   webhook_token_digest=secrets_box.digest(TOKEN),
                                   webhook_public_key=freshchat_armour(key.public_key())))
        db.session.commit()
    return app, key


def webhooks(key, count: int) -> list[tuple[bytes, str]]:
    bodies = []
    for n in range(count):
        payload = {"action": "message_create", "action_time": "2026-11-24T10:00:00Z",
                   "actor": {"actor_type": "user", "actor_id": "u1"},
                   "data": {"message": {"id": f"m-{n}", "conversation_id": f"c-{n % 100}",
                                        "actor_type": "user", "actor_id": "u1",
                                        "message_parts": [{"text": {"content": "hi"}}]}}}
        raw = json.dumps(payload).encode()
        bodies.append((raw, sign(raw, key)))
    return bodies


def timed(label: str, count: int, call) -> float:
    started = time.perf_counter()
    for n in range(count):
        call(n)
    per = (time.perf_counter() - started) / count * 1000
    print(f"{label:>10}: {per:.3f} ms per request")
    return per


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--profile", choices=("cprofile", "none"), default="none")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="opencx-cost-") as folder:
        app, key = build_app(Path(folder))
        client = app.test_client()
        bodies = webhooks(key, args.count)
        path = f"/webhooks/freshchat/{TOKEN}"

        def post(n: int, expect: str = "accepted") -> None:
            raw, signature = bodies[n]
            answer = client.post(path, data=raw, content_type="application/json",
                                 headers={"X-Freshchat-Signature": signature})
            assert answer.json == {"status": expect}, answer.json

        timed("warm-up", 200, lambda n: client.get("/healthz"))
        timed("/healthz", args.count, lambda n: client.get("/healthz"))
        if args.profile == "cprofile":
            profiler = cProfile.Profile()
            profiler.runcall(timed, "webhook", args.count, post)
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
        else:
            timed("webhook", args.count, post)
        timed("duplicate", args.count, lambda n: post(n, "duplicate"))  # the same bodies again


if __name__ == "__main__":
    main()
