"""GET /healthz: is the database reachable and the worker alive."""

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from opencx_bridge.extensions import db
from opencx_bridge.worker import runner

bp = Blueprint("health", __name__)
SELECT_ONE = text("SELECT 1")


@bp.get("/healthz")
def healthz():
    try:
        with db.engine.connect() as connection:  # no ORM session to set up and tear down
            connection.execute(SELECT_ONE)
        database = "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"
        current_app.logger.warning("health check: database unreachable: %s", exc)
        database = "unreachable"
    state = runner.status(current_app)
    healthy = database == "ok" and state != "dead"
    body = {"status": "ok" if healthy else "degraded", "database": database, "worker": state}
    return jsonify(body), 200 if healthy else 503
