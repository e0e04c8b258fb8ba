"""`flask serve`: waitress with deliberate connection limits, and reverse proxies trusted
only when told."""

from __future__ import annotations

import socket
import time

import pytest
import requests
from bridge_process import BridgeProcess

from opencx_bridge import create_app
from opencx_bridge.cli import server
from opencx_bridge.config import ConfigError


def test_the_limits_come_from_the_configuration():
    config = {"MAX_CONNECTIONS": 300, "CLIENT_TIMEOUT_SECONDS": 20}
    assert server.connection_limits(config) == {
        "connection_limit": 300, "channel_timeout": 20, "cleanup_interval": 10}


@pytest.mark.parametrize("key", ["MAX_CONNECTIONS", "CLIENT_TIMEOUT_SECONDS",
                                 "TRUSTED_PROXIES"])
@pytest.mark.parametrize("value", ["many", -1, 2.5, True])
def test_a_limit_that_is_not_a_whole_number_stops_the_start_with_its_name(tmp_path, key,
                                                                          value):
    with pytest.raises(ConfigError, match=f"OPENCX_{key} must be a whole number"):
        create_app({"TESTING": True, "WORKER": False, "SECRET_KEY": "x",
                    "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}", key: value})


def half_open(port: int) -> socket.socket:
    """A request line and headers promising a body, one byte of it, then silence."""
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(b"POST /webhooks/freshchat/x HTTP/1.1\r\nHost: a\r\n"
                 b"Content-Length: 100000\r\n\r\nx")
    return sock


def test_200_idle_half_open_connections_do_not_starve_the_health_check(tmp_path, standin):
    bridge = BridgeProcess(tmp_path, standin, OPENCX_WORKER="0").start()
    sockets = []
    try:
        sockets = [half_open(bridge.port) for _ in range(200)]
        started = time.monotonic()
        response = requests.get(bridge.url + "/healthz", timeout=5)
        assert response.status_code == 200
        assert time.monotonic() - started < 1.0
    finally:
        for sock in sockets:
            sock.close()
        bridge.stop()


@pytest.mark.parametrize("app_config", [{"TRUSTED_PROXIES": 1}])
def test_behind_a_trusted_proxy_the_webhook_url_uses_the_clients_scheme_and_host(
        app, admin, connected):
    page = admin.get("/settings/freshchat", headers={
        "X-Forwarded-Proto": "https", "X-Forwarded-Host": "bridge.example.com",
        "X-Forwarded-For": "203.0.113.9"}).get_data(as_text=True)
    assert 'value="https://bridge.example.com/webhooks/freshchat/' in page


def test_without_trusted_proxies_forwarded_headers_are_ignored(app, admin, connected):
    page = admin.get("/settings/freshchat", headers={
        "X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example"}).get_data(as_text=True)
    assert "evil.example" not in page
