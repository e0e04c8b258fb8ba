"""One requests.Session per thread, kept for the thread's life: calls reuse connections.

A new Session per call opened a new TCP connection for every call to Freshchat or to the
model server, over HTTPS with a TLS handshake each time (tens of milliseconds and real
CPU per call). A Session is not shared between threads (requests does not promise that is
safe), and it refuses cookies: the APIs authenticate by token, and one call must not carry
state picked up by another (a load balancer's cookie, another account's).
"""

from __future__ import annotations

import threading
from http.cookiejar import DefaultCookiePolicy

import requests

_local = threading.local()


def for_this_thread() -> requests.Session:
    session = getattr(_local, "session", None)
    if session is None:
        session = _local.session = requests.Session()
        session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
    return session
