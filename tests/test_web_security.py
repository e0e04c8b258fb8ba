"""Security headers on every page, and sign-in throttling."""

import pytest
from conftest import ADMIN_PASSWORD, csrf_token

from opencx_bridge.store import users
from opencx_bridge.web.security import LoginThrottle


@pytest.mark.parametrize("path", ["/setup", "/login", "/healthz", "/nope",
                                  "/vendor/htmx.min.js", "/webhooks/freshchat/unknown"])
def test_security_headers_are_on_every_response(client, path):
    response = client.get(path) if not path.startswith("/webhooks") else client.post(path)
    response.close()  # the htmx file response holds the file open until closed
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_session_cookies_are_httponly_and_samesite(app, client):
    with app.app_context():
        users.create("a@example.com", ADMIN_PASSWORD, "admin")
    page = client.get("/login").get_data(as_text=True)
    response = client.post("/login", data={"email": "a@example.com", "password": ADMIN_PASSWORD,
                                           "csrf_token": csrf_token(page)})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def attempt(client, email, password):
    page = client.get("/login").get_data(as_text=True)
    return client.post("/login", data={"email": email, "password": password,
                                       "csrf_token": csrf_token(page)})


def test_repeated_failures_slow_an_account_down(app, client):
    with app.app_context():
        users.create("a@example.com", ADMIN_PASSWORD, "admin")
    for _ in range(LoginThrottle.FREE):
        assert attempt(client, "a@example.com", "wrong password").status_code == 200
    blocked = attempt(client, "a@example.com", ADMIN_PASSWORD)
    assert blocked.status_code == 429
    assert "Too many failed sign-ins" in blocked.get_data(as_text=True)


def test_failures_with_made_up_emails_do_not_lock_out_the_team(app, client):
    """Behind a proxy everyone shares one address: 20 guesses must not stop the admin."""
    with app.app_context():
        users.create("a@example.com", ADMIN_PASSWORD, "admin")
    for number in range(20):
        assert attempt(client, f"nobody{number}@example.com", "guess").status_code == 200
    assert attempt(client, "a@example.com", ADMIN_PASSWORD).status_code == 302


def test_an_address_that_keeps_guessing_is_slowed_down_but_not_a_colleague(app, client):
    with app.app_context():
        users.create("a@example.com", ADMIN_PASSWORD, "admin")
    for number in range(LoginThrottle.FREE_PER_ADDRESS):
        attempt(client, f"nobody{number}@example.com", "guess")
    assert attempt(client, "someone@example.com", "guess").status_code == 429
    # the right password of an account nobody has been guessing still opens the door
    assert attempt(client, "a@example.com", ADMIN_PASSWORD).status_code == 302


def test_waits_double_and_expire():
    clock = [0.0]
    throttle = LoginThrottle(clock=lambda: clock[0])
    for _ in range(LoginThrottle.FREE):
        throttle.failed("account:a", "address:1")
    assert throttle.wait_seconds("account:a") == LoginThrottle.BASE_WAIT
    throttle.failed("account:a")
    assert throttle.wait_seconds("account:a") == LoginThrottle.BASE_WAIT * 2
    assert throttle.wait_seconds("account:b", "address:1") == 0  # an address gets far more
    for _ in range(LoginThrottle.FREE_PER_ADDRESS - LoginThrottle.FREE):
        throttle.failed("address:1")
    assert throttle.wait_seconds("account:b", "address:1") == LoginThrottle.BASE_WAIT
    clock[0] += 10
    assert throttle.wait_seconds("account:a") == 0
    throttle.succeeded("account:a")
    assert throttle.wait_seconds("account:a") == 0


def test_the_wait_is_capped():
    throttle = LoginThrottle(clock=lambda: 0.0)
    for _ in range(40):
        throttle.failed("account:a")
    assert throttle.wait_seconds("account:a") == LoginThrottle.MAX_WAIT


def test_a_busy_address_cannot_guess_a_real_account_without_limit(app, client):
    with app.app_context():
        users.create("a@example.com", ADMIN_PASSWORD, "admin")
    for number in range(LoginThrottle.FREE_PER_ADDRESS):
        attempt(client, f"nobody{number}@example.com", "guess")
    for _ in range(LoginThrottle.FREE):  # refused, but each guess counts against the account
        assert attempt(client, "a@example.com", "wrong").status_code == 429
    assert attempt(client, "a@example.com", ADMIN_PASSWORD).status_code == 429
