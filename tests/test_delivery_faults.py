"""Delivery under faults, with the bridge as its own process and the stand-in misbehaving:
every accepted customer message gets exactly one reply."""

from __future__ import annotations

import signal
import time

from bridge_process import chats, replies, start_bridge


def test_sigkill_in_the_middle_of_twenty_conversations(tmp_path, standin):
    standin.delay("POST", "/v2/conversations/*/messages", 0.4, then_apply=True)
    bridge = start_bridge(tmp_path, standin).start()
    try:
        conversations = chats(standin, 20)
        for cid in conversations:
            standin.customer_says(cid, "where is my order?")
        standin.wait_for(lambda: sum(bool(replies(standin, c)) for c in conversations) >= 3,
                         timeout=30)
        bridge.kill()
        bridge.start()
        standin.wait_for(lambda: all(replies(standin, c) for c in conversations), timeout=60)
        bridge.settle(timeout=30)
        assert [len(replies(standin, c)) for c in conversations] == [1] * 20
    finally:
        bridge.stop()


def test_under_the_plans_rate_limit_eight_chats_are_answered_without_a_429(tmp_path, standin):
    window = 4.0  # 12 calls per 4 s stands for 12 per minute: the same pacing, 15x faster
    standin.rate_limit_per_minute, standin.rate_window_seconds = 12, window
    bridge = start_bridge(tmp_path, standin, OPENCX_FRESHCHAT_RATE_WINDOW_SECONDS=str(window))
    bridge.cli("settings", "set", "freshchat_rate_limit_per_minute", "12")
    bridge.start()
    try:
        conversations = chats(standin, 8)
        for cid in conversations:
            standin.customer_says(cid, "hello?")
        standin.wait_for(lambda: all(replies(standin, c) for c in conversations), timeout=90)
        bridge.settle(timeout=30)
        assert [len(replies(standin, c)) for c in conversations] == [1] * 8
        assert standin.rejected_429 == 0
    finally:
        bridge.stop()


def test_retry_after_is_honoured(tmp_path, standin):
    bridge = start_bridge(tmp_path, standin).start()
    try:
        standin.fail_next("POST", "/v2/conversations/*/messages", 429, retry_after=2)
        [cid] = chats(standin, 1)
        standin.customer_says(cid, "hi")
        standin.wait_for(lambda: replies(standin, cid), timeout=20)

        def posts():  # the stand-in records a call once its answer is written
            return [c for c in standin.calls if c["method"] == "POST" and cid in c["path"]]

        standin.wait_for(lambda: len(posts()) >= 2, timeout=5)
        posts = posts()
        assert [c["status"] for c in posts] == [429, 201]
        assert posts[1]["at"] - posts[0]["at"] >= 2.0
    finally:
        bridge.stop()


def test_sigterm_stops_the_bridge_cleanly(tmp_path, standin):
    bridge = start_bridge(tmp_path, standin).start()
    started = time.monotonic()
    bridge.process.send_signal(signal.SIGTERM)
    assert bridge.process.wait(15) == 0
    assert time.monotonic() - started < 10
    bridge.process = None
    bridge.stop()
    assert "worker stopped" in bridge.log_text()
