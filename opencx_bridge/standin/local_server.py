"""A WSGI app served on loopback from a daemon thread: the stand-in, and test servers.

Threaded, so a slow request does not hold the others up; werkzeug's request lines go to the
log at debug level; stop() returns within a poll interval.
"""

from __future__ import annotations

import logging
import threading
from functools import partial
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

log = logging.getLogger(__name__)
POLL_SECONDS = 0.05  # how long stop() may wait for the serving loop


class _QuietHandler(WSGIRequestHandler):
    def log(self, type: str, message: str, *args: Any) -> None:
        log.debug("%s %s: " + message, self.server.name, type, *args)


class LocalServer:
    def __init__(self, app, name: str):
        self.app, self.name = app, name
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def url(self) -> str:
        """http://HOST:PORT (only once started)."""
        if self._server is None:
            raise RuntimeError(f"the {self.name} is not running; call start()")
        host = self._server.server_address[0]
        host = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self._server.server_port}"

    def start(self, port: int = 0, host: str = "127.0.0.1") -> None:
        server = make_server(host, port, self.app, threaded=True, request_handler=_QuietHandler)
        server.name = self.name
        self._server = server
        serve = partial(server.serve_forever, poll_interval=POLL_SECONDS)
        self._thread = threading.Thread(target=serve, name=self.name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(5)
