"""Traffic side of the stand-in account: call log, injected faults and delays, rate limit.

Kept apart from the account's data so each concern reads on its own; the lock is
shared with the subclasses because requests arrive on many threads at once.
"""

from __future__ import annotations

import fnmatch
import math
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

__all__ = ["Delay", "Fault", "TrafficState"]


@dataclass
class Fault:
    """An injected error answer for matching calls (``times`` None = forever)."""

    method: str
    path_glob: str
    status: int
    times: int | None
    retry_after: float | str | None
    body: dict[str, Any] | str | bytes | None


@dataclass
class Delay:
    """Injected latency; ``then_apply`` False means the call is dropped after the wait."""

    method: str
    path_glob: str
    seconds: float
    times: int | None
    then_apply: bool


def _matches(method: str, glob: str, req_method: str, path: str) -> bool:
    """Globs may be written with or without the /v2 prefix."""
    if method != "*" and method.upper() != req_method.upper():
        return False
    short = path[3:] if path.startswith("/v2/") else path
    return fnmatch.fnmatchcase(path, glob) or fnmatch.fnmatchcase(short, glob)


def _check_times(times: int | None) -> None:
    if times is not None and times < 1:
        raise ValueError("times must be at least 1, or None for every matching call")


def _take(items: list[Any], req_method: str, path: str) -> Any | None:
    """Pop one use of the first matching fault/delay, dropping it when used up."""
    for item in items:
        if _matches(item.method, item.path_glob, req_method, path):
            if item.times is not None:
                item.times -= 1
                if item.times <= 0:
                    items.remove(item)
            return item
    return None


class TrafficState:
    """Everything about *how* calls are answered, independent of what they touch."""

    def __init__(self, rate_limit_per_minute: int | None = None):
        self._lock = threading.RLock()
        self.calls: list[dict[str, Any]] = []
        self._faults: list[Fault] = []
        self._delays: list[Delay] = []
        self.latency = 0.0
        self.rate_limit_per_minute = rate_limit_per_minute
        self.rate_window_seconds = 60.0  # Freshchat counts per minute; tests may shrink time
        self.rejected_429 = 0
        self._window: deque[float] = deque()

    # -- call log ----------------------------------------------------------------------

    def record_call(self, call: dict[str, Any]) -> None:
        with self._lock:
            self.calls.append(call)

    def calls_to(self, method: str, path_prefix: str) -> list[dict[str, Any]]:
        """Recorded calls by method ("*" for any) and path prefix (with or without /v2)."""
        prefix = path_prefix if path_prefix.startswith("/v2") else "/v2" + path_prefix
        with self._lock:
            return [
                dict(c)
                for c in self.calls
                if (method == "*" or c["method"] == method.upper()) and c["path"].startswith(prefix)
            ]

    # -- faults ------------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        path_glob: str,
        status: int,
        times: int | None = 1,
        retry_after: float | str | None = None,
        body: dict[str, Any] | str | bytes | None = None,
    ) -> None:
        """Answer the next matching call(s) with ``status`` instead of handling them."""
        _check_times(times)
        with self._lock:
            self._faults.append(Fault(method, path_glob, status, times, retry_after, body))

    def delay(
        self,
        method: str,
        path_glob: str,
        seconds: float,
        times: int | None = None,
        then_apply: bool = True,
    ) -> None:
        """Answer matching calls ``seconds`` late; then_apply=False drops them instead (503)."""
        _check_times(times)
        with self._lock:
            self._delays.append(Delay(method, path_glob, seconds, times, then_apply))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()
            self._delays.clear()

    def take_fault(self, method: str, path: str) -> Fault | None:
        with self._lock:
            return _take(self._faults, method, path)

    def take_delay(self, method: str, path: str) -> Delay | None:
        with self._lock:
            return _take(self._delays, method, path)

    # -- rate limit --------------------------------------------------------------------

    def take_rate_slot(self) -> int | None:
        """Count an accepted call in the 60 s window; return Retry-After seconds if over."""
        with self._lock:
            limit = self.rate_limit_per_minute
            if not limit:
                return None
            now = time.monotonic()
            while self._window and self._window[0] <= now - self.rate_window_seconds:
                self._window.popleft()
            if len(self._window) >= limit:
                self.rejected_429 += 1
                return max(1, math.ceil(self._window[0] + self.rate_window_seconds - now))
            self._window.append(now)
            return None

    def rate_headers(self) -> dict[str, str]:
        """X-RateLimit-* as Freshworks' sibling products send them (only when limited)."""
        with self._lock:
            limit = self.rate_limit_per_minute
            if not limit:
                return {}
            now = time.monotonic()
            used = sum(1 for t in self._window if t > now - self.rate_window_seconds)
            return {
                "X-RateLimit-Total": str(limit),
                "X-RateLimit-Remaining": str(max(0, limit - used)),
            }
