"""GET /healthz: public, JSON, 503 when the database cannot be reached, never a traceback."""

import pytest
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError

UNREACHABLE = {"DATABASE_URL": "sqlite:////nonexistent-opencx-dir/nowhere/bridge.sqlite3",
               "AUTO_MIGRATE": False}


def test_a_healthy_bridge_answers_200_without_login(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.is_json
    body = response.json
    assert body["status"] == "ok"
    assert body["database"] == "ok"
    assert body["worker"] == "not running in this process"


def test_the_health_check_needs_no_session_cookie_even_before_setup(client):
    # no admin exists yet: every other page redirects to /setup, this one answers
    assert client.get("/").status_code == 302
    assert client.get("/healthz").status_code == 200


def test_a_database_error_answers_503_unreachable(app, client, monkeypatch):
    def broken(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, Exception("database is locked"))

    monkeypatch.setattr(Connection, "execute", broken)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json["database"] == "unreachable"
    assert response.json["status"] == "degraded"
    text = response.get_data(as_text=True)
    assert "Traceback" not in text
    assert "database is locked" not in text
    assert "OperationalError" not in text


@pytest.mark.parametrize("app_config", [UNREACHABLE])
def test_a_database_that_cannot_be_opened_answers_503(client):
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json == {"status": "degraded", "database": "unreachable",
                             "worker": "not running in this process"}
    text = response.get_data(as_text=True)
    assert "Traceback" not in text
    assert "nonexistent-opencx-dir" not in text
    assert "sqlite" not in text.lower()


def test_the_database_coming_back_makes_the_bridge_healthy_again(client, monkeypatch):
    def broken(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr(Connection, "execute", broken)
    assert client.get("/healthz").status_code == 503
    monkeypatch.undo()
    assert client.get("/healthz").status_code == 200


def test_a_dead_worker_makes_the_bridge_degraded(app, client):
    class DeadWorker:
        alive = False

        def stop(self):
            pass

    app.extensions["opencx_worker"] = DeadWorker()
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json == {"status": "degraded", "database": "ok", "worker": "dead"}

