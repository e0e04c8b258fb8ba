"""Webhooks first: worker threads step aside while webhooks are being answered.

The worker shares the process, and Python's one running thread at a time, with the web
server. Under load its threads always have work, and a webhook request then waits for them
to hand over (measured: 6 % of the /healthz ceiling at one client, p50 7.5 ms). So the intake
counts the webhooks it is answering, and each worker step waits for its turn:

- no webhook for IDLE_AFTER: at once, any number of threads (nothing to make way for);
- otherwise when it is quiet: no webhook in flight or answered in the last QUIET_GAP, and
  no worker step started or ended in the last STEP_GAP. Counting the worker's own steps
  matters: a request held up by a step (waiting to run) looks like silence, and that must
  not let the next step in (measured: worker threads then had 80 % of the time at one
  client). STEP_GAP is enough for a held-up request to reach the intake;
- and when no thread has taken a step for MAX_WAIT, so that under a steady stream of
  webhooks the worker still moves on.

One waiting thread watches the clock; the others queue behind it without waking.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from .write_lock import FairLock

MAX_WAIT = 0.1  # under a steady stream of webhooks, one worker step at least this often
QUIET_GAP = 0.003  # after a webhook: a client usually sends its next one within it
STEP_GAP = 0.001  # after a worker step starts or ends: a webhook held up by it gets in
IDLE_AFTER = 0.5  # no webhook for this long: worker steps need not wait at all
POLL = 0.001
MIN_SLEEP = 0.0001  # below it, a sleep costs more than it waits


class Traffic:
    def __init__(self, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.clock, self.sleep = clock, sleep
        self._in_flight = 0
        self._last_webhook = self._last_step = self._quiet_from = float("-inf")
        self._lock = threading.Lock()
        self._queue = FairLock()  # first come, first served: no lane waits for ever

    @contextmanager
    def serving(self) -> Iterator[None]:
        """Around answering one webhook."""
        with self._lock:
            self._in_flight += 1
        try:
            yield
        finally:
            with self._lock:
                self._in_flight -= 1
                self._last_webhook = self.clock()
                self._quiet_from = max(self._quiet_from, self._last_webhook + QUIET_GAP)

    @contextmanager
    def step(self) -> Iterator[None]:
        """Around one worker step: first waits for the worker's turn."""
        self._queue.acquire()
        try:
            self._wait_turn()
        finally:
            self._queue.release()
        try:
            yield
        finally:
            with self._lock:
                self._quiet_from = max(self._quiet_from, self.clock() + STEP_GAP)

    def _wait_turn(self) -> None:
        while True:
            with self._lock:
                now = self.clock()
                idle = not self._in_flight and now - self._last_webhook >= IDLE_AFTER
                quiet = not self._in_flight and now >= self._quiet_from
                if idle or quiet or now - self._last_step >= MAX_WAIT:
                    self._last_step = now
                    self._quiet_from = max(self._quiet_from, now + STEP_GAP)
                    return
                waits = [self._last_step + MAX_WAIT - now]
                if not self._in_flight:
                    waits.append(self._quiet_from - now)
            self.sleep(max(MIN_SLEEP, min([POLL, *waits])))


traffic = Traffic()  # one per process: the threads it arbitrates share one interpreter
