"""The worker in an OS process of its own, started and supervised by `flask serve`.

The web process answers webhooks and pages; the worker's threads process events and call
Freshchat. In one process they would share one interpreter lock, and webhooks would wait
for the worker's Python; in two, the OS schedules them.

The child's stdin is a pipe from the parent: a byte on it wakes the worker (a webhook was
stored), and its end (the parent exited, however it died) stops the worker. A child that
exits on its own is started again after a pause that grows while it keeps failing.
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import sys
import threading
import time

log = logging.getLogger(__name__)
RESTART_PAUSES = (1.0, 2.0, 5.0, 10.0, 30.0)  # seconds, growing while it keeps failing
HEALTHY_AFTER = 60.0  # a child that ran this long starts the pauses from the beginning


def worker_command(app_import_path: str | None) -> list[str]:
    """`flask worker --parent-pipe` for the same app as this `flask` command."""
    app_option = ["--app", app_import_path] if app_import_path else []
    return [sys.executable, "-m", "flask", *app_option, "worker", "--parent-pipe"]


class Supervisor:
    """Starts the worker process, wakes it, restarts it when it dies, stops it."""

    def __init__(self, command: list[str], monotonic=time.monotonic):
        self.command, self.monotonic = command, monotonic
        self.restarts = 0
        self._process: subprocess.Popen | None = None
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    @property
    def alive(self) -> bool:
        process = self._process
        return process is not None and process.poll() is None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    standby = False  # the child knows (and logs it); the web process does not ask

    def start(self) -> Supervisor:
        self._spawn()
        self._thread = threading.Thread(target=self._watch, name="opencx-supervisor",
                                        daemon=True)
        self._thread.start()
        return self

    def wake(self) -> None:
        """One byte down the pipe; a full pipe already holds a wake-up."""
        with self._lock:
            process = self._process
            if process is None or process.stdin is None:
                return
            # Full (a wake-up is waiting already), or the child is gone (it is restarted).
            with contextlib.suppress(OSError, ValueError):
                os.write(process.stdin.fileno(), b"\n")

    def stop(self, timeout: float) -> None:
        """Close the pipe (the child finishes what it is sending), then wait for it."""
        with self._lock:  # under the lock: no new child after this
            self._stopping.set()
            process = self._process
            if process is not None and process.stdin is not None:
                process.stdin.close()
        if process is None:
            return
        try:
            process.wait(timeout + 5)
        except subprocess.TimeoutExpired:
            log.warning("the worker process did not stop in time; killing it")
            process.kill()
            process.wait()
        if self._thread is not None:
            self._thread.join(5)

    def _spawn(self) -> None:
        with self._lock:
            if self._stopping.is_set():
                return
            process = subprocess.Popen(self.command, stdin=subprocess.PIPE)
            os.set_blocking(process.stdin.fileno(), False)  # a webhook never waits on the pipe
            old, self._process = self._process, process
            if old is not None and old.stdin is not None:
                old.stdin.close()
        log.info("worker process %d started", process.pid)

    def _watch(self) -> None:
        failures = 0
        while not self._stopping.is_set():
            started = self.monotonic()
            code = self._process.wait()
            if self._stopping.is_set():
                return
            failures = 0 if self.monotonic() - started >= HEALTHY_AFTER else failures + 1
            pause = RESTART_PAUSES[min(failures, len(RESTART_PAUSES)) - 1] if failures else 0.0
            log.error("the worker process exited (code %s); starting it again in %.0f s",
                      code, pause)
            self._stopping.wait(pause)
            if self._stopping.is_set():
                return
            self._spawn()
            self.restarts += 1


def follow_parent(wake, stop, fd: int | None = None) -> threading.Thread:
    """In the child: wake() for each read from the parent's pipe (stdin), stop() at its end."""
    fd = sys.stdin.fileno() if fd is None else fd

    def read() -> None:
        while True:
            try:
                data = os.read(fd, 4096)
            except OSError:
                data = b""
            if not data:
                stop()
                return
            wake()

    thread = threading.Thread(target=read, name="opencx-parent-pipe", daemon=True)
    thread.start()
    return thread
