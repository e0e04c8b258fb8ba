"""The webhook intake: token, size, signature, body, dedup, in that order; nothing else."""

import json
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from opencx_bridge.extensions import db
from opencx_bridge.freshchat.signature import generate_private_key, sign
from opencx_bridge.store.models import DedupKey, Event, RefusedWebhook, TimelineEntry

FIXTURES = Path(__file__).parent / "fixtures" / "freshchat"


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / f"{name}.json").read_bytes()


@pytest.fixture
def path(connected):
    return urlsplit(connected).path


@pytest.fixture
def post(client, path, standin):
    def post(raw: bytes, signature: str | None = "sign", **headers):
        if signature == "sign":
            signature = sign(raw, standin.private_key)
        if signature is not None:
            headers["X-Freshchat-Signature"] = signature
        return client.post(path, data=raw, headers=headers, content_type="application/json")
    return post


def stored(app) -> list[Event]:
    with app.app_context():
        return list(db.session.scalars(select(Event).order_by(Event.id)))


def test_a_signed_message_is_stored_and_accepted(app, post):
    response = post(fixture_bytes("message_create_user"))
    assert response.status_code == 200
    assert response.content_type == "application/json"
    assert response.get_data() == b'{"status":"accepted"}\n'  # as jsonify would write it
    [event] = stored(app)
    assert event.action == "message_create"
    assert event.status == "pending"
    assert event.conversation_id == "7d1f3a5c-2b4e-4f60-9a8b-c1d2e3f4a5b6"


def test_the_intake_calls_nobody(app, post, standin):
    standin.calls.clear()
    post(fixture_bytes("message_create_user"))
    assert standin.calls == []


def test_a_redelivery_is_a_duplicate(app, post):
    raw = fixture_bytes("message_create_user")
    statuses = [post(raw, **{"X-Retry-Count": str(n)}).json["status"] for n in range(4)]
    assert statuses == ["accepted", "duplicate", "duplicate", "duplicate"]
    assert len(stored(app)) == 1
    with app.app_context():
        dropped = db.session.scalar(select(func.count()).select_from(TimelineEntry)
                                    .where(TimelineEntry.kind == "duplicate"))
    assert dropped == 3


def test_a_key_older_than_the_window_counts_as_new(app, post):
    raw = fixture_bytes("message_create_user")
    post(raw)
    with app.app_context():
        key = db.session.scalar(select(DedupKey))
        key.seen_at = key.seen_at.replace(year=2000)
        db.session.commit()
    assert post(raw).json == {"status": "accepted"}


@pytest.mark.parametrize("name", ["message_create_korean_emoji", "message_create_user_legacy",
                                  "conversation_assignment", "conversation_resolution",
                                  "conversation_reopen", "conversation_close"])
def test_every_known_payload_is_accepted(post, name):
    assert post(fixture_bytes(name)).json == {"status": "accepted"}


def test_korean_and_emoji_are_verified_over_the_raw_bytes(post):
    raw = fixture_bytes("message_create_korean_emoji")
    reserialised = json.dumps(json.loads(raw)).encode()  # what a careless receiver would check
    assert raw != reserialised
    assert post(raw).status_code == 200


def test_an_unknown_action_is_stored_and_ignored(app, post):
    assert post(fixture_bytes("unknown_action")).json == {"status": "ignored"}
    [event] = stored(app)
    assert event.status == "ignored"


def test_an_unknown_token_is_404(client, post):
    response = client.post("/webhooks/freshchat/not-the-token", data=b"{}")
    assert response.status_code == 404


def test_an_unsigned_delivery_is_401(app, post):
    response = post(fixture_bytes("message_create_user"), signature=None)
    assert response.status_code == 401
    assert "missing X-Freshchat-Signature" in response.json["error"]
    assert stored(app) == []


def test_a_forged_delivery_is_401(app, post):
    raw = fixture_bytes("message_create_user")
    forged = sign(raw, generate_private_key())
    assert post(raw, signature=forged).status_code == 401
    assert stored(app) == []


def test_a_tampered_body_is_401(post, standin):
    raw = fixture_bytes("message_create_user")
    signature = sign(raw, standin.private_key)
    assert post(raw.replace(b"#1042", b"#1043"), signature=signature).status_code == 401


def test_a_body_over_the_limit_is_413_before_the_signature_is_checked(app, post):
    response = post(b"x" * (2 * 1024 * 1024), signature=None)
    assert response.status_code == 413
    assert stored(app) == []


@pytest.mark.parametrize("raw, why", [
    (b"\xff\xfe not utf-8", "not UTF-8"),
    (b"{not json", "not JSON"),
    (b"[1, 2]", "not a JSON object"),
    (b'{"data": {}}', 'no string "action"'),
    (b'{"action": 7}', 'no string "action"'),
])
def test_malformed_bodies_are_400_and_say_why(app, post, raw, why):
    response = post(raw)
    assert response.status_code == 400
    assert why in response.json["error"]
    assert stored(app) == []


def test_without_a_public_key_deliveries_need_no_signature(app, post, runner, standin):
    from opencx_bridge.store import integration

    with app.app_context():
        integration.get().webhook_public_key = None
        db.session.commit()
    assert post(fixture_bytes("message_create_user"), signature=None).status_code == 200


def test_a_database_failure_answers_503_so_freshchat_retries(app, post, monkeypatch):
    from opencx_bridge.intake import accept

    def broken(*args, **kwargs):
        raise OperationalError("INSERT", {}, Exception("database is locked"))

    monkeypatch.setattr(accept, "store", broken)
    response = post(fixture_bytes("message_create_user"))
    assert response.status_code == 503


def test_a_database_that_cannot_be_reached_answers_503(app, post, monkeypatch):
    """The pool hands the driver's own error through when it cannot connect at all."""
    with app.app_context():
        engine = db.engine

    def down():
        raise engine.dialect.loaded_dbapi.OperationalError("connection refused")

    monkeypatch.setattr(engine, "raw_connection", down)
    response = post(fixture_bytes("message_create_user"))
    assert response.status_code == 503
    assert "database unavailable" in response.json["error"]


def test_hits_on_a_revoked_url_are_counted(app, client, path, runner):
    from opencx_bridge.store.models import RevokedWebhook

    runner.invoke(args=["freshchat", "disconnect"])
    assert client.post(path, data=b"{}").status_code == 404
    assert client.post(path, data=b"{}").status_code == 404
    with app.app_context():
        assert db.session.scalar(select(RevokedWebhook.hits)) == 2


# -- what a client can send that no Freshchat would: 4xx or 200, never 5xx --------------------

@pytest.mark.parametrize("raw", [
    b"[" * 100_000 + b"]" * 100_000,
    b'{"action": "message_create", "data": ' + b'{"x": ' * 50_000 + b"1" + b"}" * 50_001,
])
def test_deeply_nested_json_is_refused_in_a_few_words(app, post, raw):
    response = post(raw)
    assert response.status_code == 400
    assert response.json["error"] == "body is nested too deeply to be a Freshchat webhook"
    assert stored(app) == []


def message_with(text: str = "hello", message_id: str = "m-1", action: str = "message_create"):
    payload = json.loads(fixture_bytes("message_create_user"))
    payload["action"] = action
    payload["data"]["message"]["id"] = message_id
    payload["data"]["message"]["message_parts"] = [{"text": {"content": text}}]
    return json.dumps(payload).encode()  # ensure_ascii: a lone surrogate as \\ud800


@pytest.mark.parametrize("raw", [
    message_with(action="message_\ud800create"), message_with(message_id="m-\udfff"),
])
def test_an_id_or_action_with_a_lone_surrogate_is_refused(app, post, raw):
    assert b"\\ud" in raw
    response = post(raw)
    assert response.status_code == 400
    assert "lone UTF-16 surrogate" in response.json["error"]
    assert stored(app) == []


def test_text_with_a_lone_surrogate_is_stored_as_sent(app, post):
    response = post(message_with(text="broken \ud800 emoji"))
    assert response.status_code == 200 and response.json == {"status": "accepted"}
    assert "\\ud800" in stored(app)[0].payload  # the worker repairs it when it reads it


@pytest.mark.parametrize("value", ["9223372036854775808", "99999999999999999999999", "²",
                                   "-1", "1e3", " 7", "0x10", "２"])
def test_an_unusable_retry_count_is_ignored(app, post, value):
    response = post(fixture_bytes("message_create_user"), **{"X-Retry-Count": value})
    assert response.status_code == 200
    assert stored(app)[0].retry_count is None


def test_the_largest_storable_retry_count_is_kept(app, post):
    assert post(fixture_bytes("message_create_user"),
                **{"X-Retry-Count": "2147483647"}).status_code == 200
    assert stored(app)[0].retry_count == 2147483647


def test_no_webhook_token_in_the_log_when_the_intake_fails(app, post, path, monkeypatch,
                                                           caplog):
    from opencx_bridge.intake import accept

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(accept, "store", broken)
    app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production: logged, answered 500
    assert post(fixture_bytes("message_create_user")).status_code == 500
    token = path.rsplit("/", 1)[1]
    assert "Exception on /webhooks/freshchat/<redacted> [POST]" in caplog.text
    assert token not in caplog.text


LEGACY_ID = "a0b1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d_f0e1d2c3-b4a5-4968-8776-655443322110_feedback"


def test_a_legacy_82_character_conversation_id_is_stored(app, post):
    assert len(LEGACY_ID) == 82
    payload = json.loads(fixture_bytes("message_create_user"))
    payload["data"]["message"]["conversation_id"] = LEGACY_ID
    response = post(json.dumps(payload).encode())
    assert response.status_code == 200  # PostgreSQL refused it in a 64-character column: 503
    assert stored(app)[0].conversation_id == LEGACY_ID


@pytest.mark.parametrize("field", ["conversation_id", "id"])
def test_an_id_longer_than_any_freshchat_id_is_refused_not_retried(app, post, field):
    payload = json.loads(fixture_bytes("message_create_user"))
    payload["data"]["message"][field] = "x" * 256
    response = post(json.dumps(payload).encode())
    assert response.status_code == 400
    assert "longer than 255 characters" in response.json["error"]
    assert stored(app) == []


def refusals(app) -> list[tuple[int, str]]:
    with app.app_context():
        rows = db.session.scalars(select(RefusedWebhook).order_by(RefusedWebhook.id))
        return [(row.status, row.reason) for row in rows]


def test_each_refusal_is_kept_with_its_reason_for_diagnostics(app, post):
    payload = json.loads(fixture_bytes("message_create_user"))
    payload["data"]["message"]["conversation_id"] = "x" * 256
    raw = json.dumps(payload).encode()
    answers = [post(raw).status_code, post(raw, signature=None).status_code,
               post(b"x" * (2 * 1024 * 1024), signature=None).status_code]
    assert answers == [400, 401, 413]
    assert [status for status, _ in refusals(app)] == [400, 401, 413]
    assert refusals(app)[0][1] == ("conversation id longer than 255 characters: "
                                   "not a Freshchat id")
    assert post(fixture_bytes("message_create_user")).status_code == 200
    assert len(refusals(app)) == 3  # an accepted webhook adds none


def test_a_refusal_the_database_cannot_keep_is_still_a_refusal(app, post, monkeypatch):
    from opencx_bridge.intake import accept

    def broken(*_):
        raise OperationalError("INSERT", {}, Exception("disk I/O error"))
    monkeypatch.setattr(accept, "record_refusal", broken)
    assert post(b"{not json").status_code == 400  # not 503: Freshchat would retry it


def test_the_bridges_own_return_to_ai_event_cannot_come_in_as_a_webhook(app, post):
    raw = json.dumps({"action": "bridge_return_to_ai", "data": {
        "conversation": {"conversation_id": "7d1f3a5c-2b4e-4f60-9a8b-c1d2e3f4a5b6"}}}).encode()
    assert post(raw).json == {"status": "ignored"}
    assert stored(app)[0].status == "ignored"  # recorded, never processed
