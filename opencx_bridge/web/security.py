"""Security headers on every response, and sign-in throttling.

The throttle keeps its counts in memory: the bridge is one process for most teams, and a
restart forgetting failed attempts is harmless. Several processes each keep their own.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import timedelta

from flask import Flask, current_app

CSP = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: https:",  # agent avatars come from Freshchat's CDN
    "connect-src 'self'",
    "frame-ancestors 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "object-src 'none'",
))
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",  # CSRF over HTTPS needs the Referer on our own posts
}


def init_app(app: Flask) -> None:
    app.after_request(_headers)
    app.config.setdefault("PERMANENT_SESSION_LIFETIME", timedelta(hours=12))
    public = str(app.config.get("PUBLIC_URL") or "")
    if public.startswith("https://"):
        app.config["SESSION_COOKIE_SECURE"] = True
        app.config["REMEMBER_COOKIE_SECURE"] = True
    app.extensions["opencx_login_throttle"] = LoginThrottle()


def _headers(response):
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def login_throttle() -> LoginThrottle:
    return current_app.extensions["opencx_login_throttle"]


class LoginThrottle:
    """After FREE failures of an account (FREE_PER_ADDRESS from one address, which may be a
    whole office behind one proxy), each further failure doubles the wait, up to MAX_WAIT;
    a success clears the account's count. Keys: "account:<email>", "address:<ip>"."""

    FREE = 5
    FREE_PER_ADDRESS = 50
    BASE_WAIT = 2.0
    MAX_WAIT = 900.0
    FORGET_AFTER = 3600.0

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self.clock = clock
        self._failures: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()

    def wait_seconds(self, *keys: str) -> float:
        """How long the caller must wait before trying again (0 when allowed now)."""
        now = self.clock()
        with self._lock:
            return max((self._wait(key, now) for key in keys), default=0.0)

    def failed(self, *keys: str) -> None:
        now = self.clock()
        with self._lock:
            for key in keys:
                count, last = self._failures.get(key, (0, now))
                if now - last > self.FORGET_AFTER:
                    count = 0
                self._failures[key] = (count + 1, now)

    def has_failures(self, key: str) -> bool:
        """Failed within FORGET_AFTER."""
        now = self.clock()
        with self._lock:
            count, last = self._failures.get(key, (0, now))
            return count > 0 and now - last <= self.FORGET_AFTER

    def succeeded(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)

    def _wait(self, key: str, now: float) -> float:
        count, last = self._failures.get(key, (0, now))
        free = self.FREE_PER_ADDRESS if key.startswith("address:") else self.FREE
        if count < free or now - last > self.FORGET_AFTER:
            return 0.0
        wait = min(self.MAX_WAIT, self.BASE_WAIT * 2 ** (count - free))
        return max(0.0, last + wait - now)
