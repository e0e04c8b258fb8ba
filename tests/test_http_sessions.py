"""One kept requests.Session per thread, refusing cookies."""

import threading

import requests
from werkzeug.wrappers import Response

from opencx_bridge import http_sessions
from opencx_bridge.standin.local_server import LocalServer


def test_a_thread_keeps_its_session_and_other_threads_get_their_own():
    mine = http_sessions.for_this_thread()
    assert http_sessions.for_this_thread() is mine
    theirs = []
    thread = threading.Thread(target=lambda: theirs.append(http_sessions.for_this_thread()))
    thread.start()
    thread.join()
    assert isinstance(theirs[0], requests.Session) and theirs[0] is not mine


def test_cookies_set_by_a_server_are_not_sent_back():
    seen = []

    def app(environ, start_response):
        seen.append(environ.get("HTTP_COOKIE"))
        return Response("ok", headers={"Set-Cookie": "lb=node-7; Path=/"})(environ, start_response)

    server = LocalServer(app, "cookie-setter")
    server.start()
    try:
        session = http_sessions.for_this_thread()
        for _ in range(2):
            assert session.get(server.url + "/", timeout=5).status_code == 200
    finally:
        server.stop()
    assert seen == [None, None]
