"""Waiting for another thread to reach a point: spin, yielding, with a guard against hangs."""

import threading
import time

DEADLOCK_GUARD = 30.0  # seconds; only ever reached when the code under test hangs


def wait_until(condition, what: str = "the condition") -> None:
    gate = threading.Event()
    deadline = time.monotonic() + DEADLOCK_GUARD
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached in {DEADLOCK_GUARD:g} s: a hang?")
        gate.wait(0.001)
