"""POST /webhooks/freshchat/<token>: verify, store, acknowledge. Nothing else.

Order of checks: token (404), size (413), signature (401), body (400), store (200/503).
A 413, 401 or 400 is kept with its reason (a row in refused_webhook) for diagnostics.
"""

from __future__ import annotations

import functools
import json

from flask import Blueprint, current_app, jsonify, request
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import RequestEntityTooLarge

from opencx_bridge.extensions import WORKER, db
from opencx_bridge.freshchat.signature import (
    InvalidPublicKey,
    SignatureError,
    load_public_key,
    verify,
)
from opencx_bridge.intake import accept
from opencx_bridge.store import integration, secrets_box

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")


@bp.post("/freshchat/<token>")
def freshchat(token: str):
    try:
        with db.engine.connect() as connection:  # one checkout for the request
            keys = accept.webhook_keys(connection)
            if keys is None or not secrets_box.same_secret(token, keys.token_digest):
                answer = None
            else:
                answer = _verified(connection, keys)
    except SQLAlchemyError:
        return _database_down()
    if answer is None:
        return _unknown_url(token)
    return answer


def _verified(connection: Connection, keys: accept.WebhookKeys):
    """Answer a request to the current URL: 413, 401, 400, or stored and 200."""
    raw, too_large = _read_body()
    if too_large:
        return _refused(connection, 413, too_large)
    if keys.public_key:
        try:
            verify(raw, request.headers.get("X-Freshchat-Signature"), _public_key(keys.public_key))
        except (SignatureError, InvalidPublicKey) as exc:
            return _refused(connection, 401, str(exc))
    try:
        payload = accept.parse_body(raw)
    except ValueError as exc:
        return _refused(connection, 400, str(exc))
    status = accept.store(connection, payload, raw, _retry_count())
    worker = current_app.extensions.get(WORKER)  # threads here, or the worker process
    if worker is not None:
        worker.wake()
    return current_app.response_class(_STORED[status], mimetype="application/json")


def _unknown_url(token: str):
    try:
        integration.count_revoked_hit(token)
    except SQLAlchemyError:
        return _database_down()
    return _error(404, "unknown webhook URL: copy the current one from the bridge settings")


def _refused(connection: Connection, status: int, reason: str):
    """Say no to Freshchat, and keep the reason for diagnostics (which only we can see)."""
    try:
        accept.record_refusal(connection, status, reason)
    except SQLAlchemyError:  # the answer stays the refusal: a 503 would ask for retries
        current_app.logger.exception("refused webhook not recorded: database error")
    return _error(status, reason)


def _read_body() -> tuple[bytes, str | None]:
    """The body, or why it is too large to read."""
    limit = int(current_app.config["MAX_WEBHOOK_BYTES"])
    too_large = f"body larger than {limit} bytes"
    if request.content_length is not None and request.content_length > limit:
        return b"", too_large
    request.max_content_length = limit
    try:
        return request.get_data(cache=True), None
    except RequestEntityTooLarge:
        return b"", too_large


@functools.lru_cache(maxsize=4)
def _public_key(text: str):
    return load_public_key(text)


MAX_RETRY_COUNT = 2**31 - 1  # what the column holds on either database


def _retry_count() -> int | None:
    """Freshchat's redelivery count; anything else in the header (letters, '²', a number
    too large to store) is ignored, never an error."""
    value = request.headers.get("X-Retry-Count", "")
    if not (value.isascii() and value.isdigit()) or len(value) > 10:
        return None
    count = int(value)
    return count if count <= MAX_RETRY_COUNT else None


def _database_down():
    current_app.logger.exception("webhook not stored: database error")
    return _error(503, "database unavailable; Freshchat will retry")


# The 200 answers' bodies, encoded once as jsonify would write them: the hot path.
_STORED = {status: json.dumps({"status": status}, separators=(",", ":")).encode() + b"\n"
           for status in ("accepted", "duplicate", "ignored")}


def _error(status: int, message: str):
    return jsonify(error=message), status
