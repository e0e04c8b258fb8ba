"""Storing a verified delivery: the body checks, the dedup key, the event row, the timeline."""

import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, select
from sqlalchemy.engine import Connection

from opencx_bridge.extensions import db
from opencx_bridge.intake import accept
from opencx_bridge.store import settings
from opencx_bridge.store.models import DedupKey, Event, Integration, TimelineEntry, utcnow

FIXTURES = Path(__file__).parent / "fixtures" / "freshchat"
CONVERSATION = "7d1f3a5c-2b4e-4f60-9a8b-c1d2e3f4a5b6"


def delivery(name: str) -> tuple[dict, bytes]:
    raw = (FIXTURES / f"{name}.json").read_bytes()
    return json.loads(raw), raw


def store(payload: dict, raw: bytes, retry_count: int | None) -> str:
    with db.engine.connect() as connection:
        return accept.store(connection, payload, raw, retry_count)


def events() -> list[Event]:
    return list(db.session.scalars(select(Event).order_by(Event.id)))


def timeline() -> list[TimelineEntry]:
    return list(db.session.scalars(select(TimelineEntry).order_by(TimelineEntry.id)))


# parse_body -------------------------------------------------------------------------------

def test_a_json_object_with_a_string_action_parses():
    assert accept.parse_body(b'{"action": "message_create", "data": {}}') == {
        "action": "message_create", "data": {}}


def test_every_fixture_payload_parses():
    for path in sorted(FIXTURES.glob("*.json")):
        assert isinstance(accept.parse_body(path.read_bytes())["action"], str), path.name


def test_korean_and_emoji_text_parses():
    raw = '{"action": "message_create", "text": "안녕하세요 👋"}'.encode()
    assert accept.parse_body(raw)["text"] == "안녕하세요 👋"


@pytest.mark.parametrize(("raw", "message"), [
    (b'{"action": "message_create", "x": "\xff\xfe"}', "body is not UTF-8"),
    ('{"action": "x"}'.encode("utf-16"), "body is not UTF-8"),
    (b"", "body is not JSON"),
    (b"action=message_create", "body is not JSON"),
    (b'{"action": "message_create"', "body is not JSON"),
    (b'[{"action": "message_create"}]', "body is not a JSON object"),
    (b'"message_create"', "body is not a JSON object"),
    (b"null", "body is not a JSON object"),
    (b"42", "body is not a JSON object"),
    (b'{"data": {}}', 'body has no string "action"'),
    (b'{"action": null}', 'body has no string "action"'),
    (b'{"action": 7}', 'body has no string "action"'),
    (b'{"action": ["message_create"]}', 'body has no string "action"'),
    (b'{"action": ""}', 'body has no string "action"'),
])
def test_a_body_that_is_not_a_webhook_is_rejected_saying_why(raw, message):
    with pytest.raises(ValueError) as raised:
        accept.parse_body(raw)
    assert str(raised.value).startswith(message)


def test_the_json_error_says_where_the_body_broke():
    with pytest.raises(ValueError, match=r"at position \d+"):
        accept.parse_body(b'{"action": }')


# is_known ---------------------------------------------------------------------------------

@pytest.mark.parametrize("action", [
    "message_create", "conversation_assignment", "conversation_resolution",
    "conversation_reopen", "conversation_close", "conversation_closed", "conversation_resolved",
    "Conversation_Closed", "conversation_auto_resolve", "CONVERSATION_CLOSE_REQUEST",
])
def test_messages_assignments_reopens_and_close_ish_actions_are_acted_on(action):
    assert accept.is_known(action)


@pytest.mark.parametrize("action", ["user_create", "agent_status_update", "message_update",
                                    "conversation_rating", "MESSAGE_CREATE"])
def test_other_actions_are_not_acted_on(action):
    assert not accept.is_known(action)


# store ------------------------------------------------------------------------------------

def test_a_message_is_stored_pending_and_accepted(ctx):
    payload, raw = delivery("message_create_user")
    assert store(payload, raw, None) == "accepted"
    [event] = events()
    assert event.action == "message_create"
    assert event.conversation_id == CONVERSATION
    assert event.status == "pending"
    assert event.processed_at is None
    assert event.payload == raw.decode()
    assert event.dedup_key == "message:0b6f2c1e-3d4a-4b5c-9e8f-7a6b5c4d3e21"
    [entry] = timeline()
    assert (entry.conversation_id, entry.kind) == (CONVERSATION, "event")
    assert entry.summary == "message_create received"


def test_the_retry_count_is_kept_with_the_event(ctx):
    payload, raw = delivery("message_create_user")
    store(payload, raw, 3)
    assert events()[0].retry_count == 3
    assert json.loads(timeline()[0].detail)["retry_count"] == 3


def test_a_redelivery_is_a_duplicate_and_the_timeline_says_so(ctx):
    payload, raw = delivery("message_create_user")
    assert store(payload, raw, None) == "accepted"
    assert store(payload, raw, 1) == "duplicate"
    assert store(payload, raw, 2) == "duplicate"
    assert len(events()) == 1
    kinds = [(entry.kind, entry.summary) for entry in timeline()]
    assert kinds == [("event", "message_create received"),
                     ("duplicate", "duplicate message_create dropped"),
                     ("duplicate", "duplicate message_create dropped")]
    detail = json.loads(timeline()[-1].detail)
    assert detail == {"dedup_key": "message:0b6f2c1e-3d4a-4b5c-9e8f-7a6b5c4d3e21",
                      "retry_count": 2}


def test_a_message_in_the_legacy_shape_is_accepted_under_its_conversation(ctx):
    assert store(*delivery("message_create_user_legacy"), None) == "accepted"
    [event] = events()
    assert event.conversation_id == CONVERSATION
    assert event.dedup_key == "message:1c7a3d2f-4e5b-4c6d-8f9a-8b7c6d5e4f32"


def test_a_duplicate_without_a_conversation_leaves_no_timeline_entry(ctx):
    raw = b'{"action": "agent_status_update", "data": {}}'
    payload = json.loads(raw)
    assert store(payload, raw, None) == "ignored"
    assert store(payload, raw, None) == "duplicate"
    assert timeline() == []
    assert len(events()) == 1


def test_an_unknown_action_is_stored_as_ignored_and_marked_processed(ctx):
    payload, raw = delivery("unknown_action")
    assert store(payload, raw, None) == "ignored"
    [event] = events()
    assert (event.action, event.status) == ("user_create", "ignored")
    assert event.processed_at is not None
    assert timeline() == []  # a user_create belongs to no conversation


def test_an_unknown_action_in_a_conversation_is_noted_as_ignored(ctx):
    payload = {"action": "conversation_rating", "action_time": "2026-11-24T10:50:00Z",
               "actor": {"actor_id": "u1"},
               "data": {"rating": {"conversation_id": CONVERSATION, "score": 5}}}
    raw = json.dumps(payload).encode()
    assert store(payload, raw, None) == "ignored"
    [entry] = timeline()
    assert entry.conversation_id == CONVERSATION
    assert entry.summary == "conversation_rating received (ignored: not acted on)"


@pytest.mark.parametrize("name", ["conversation_assignment", "conversation_resolution",
                                  "conversation_reopen", "conversation_close"])
def test_conversation_events_are_accepted_under_their_conversation(ctx, name):
    payload, raw = delivery(name)
    assert store(payload, raw, None) == "accepted"
    [event] = events()
    assert event.status == "pending"
    assert event.conversation_id == CONVERSATION
    assert timeline()[0].summary == f"{payload['action']} received"


def test_a_close_ish_action_under_another_name_is_accepted(ctx):
    payload, raw = delivery("conversation_resolution")
    payload["action"] = "conversation_closed"
    raw = json.dumps(payload).encode()
    assert store(payload, raw, None) == "accepted"
    assert events()[0].status == "pending"


def test_the_same_action_from_different_deliveries_is_not_a_duplicate(ctx):
    payload, raw = delivery("conversation_resolution")
    assert store(payload, raw, None) == "accepted"
    payload["action_time"] = "2026-11-24T11:00:00.000Z"
    assert store(payload, json.dumps(payload).encode(), None) == "accepted"
    assert len(events()) == 2


def test_a_key_older_than_the_dedup_window_counts_as_new(ctx):
    settings.set_value("dedup_window_hours", "0.5")
    db.session.commit()
    payload, raw = delivery("message_create_user")
    assert store(payload, raw, None) == "accepted"
    key = db.session.scalar(select(DedupKey))
    key.seen_at = utcnow() - timedelta(minutes=31)
    db.session.commit()
    assert store(payload, raw, 5) == "accepted"
    assert len(events()) == 2
    assert utcnow() - db.session.scalar(select(DedupKey.seen_at)) < timedelta(minutes=1)


def test_an_expired_key_is_renewed_for_one_delivery_only(ctx):
    """Two processes may see the same expired key at once: one renewal wins."""
    settings.set_value("dedup_window_hours", "0.5")
    stale = utcnow() - timedelta(minutes=31)
    db.session.add(DedupKey(key="k", seen_at=stale))
    db.session.commit()
    now = utcnow()
    with db.engine.connect() as first, db.engine.connect() as second:
        assert accept._claim_key(first, "k", now) is True  # renewed, not yet committed
        first.commit()
        assert accept._claim_key(second, "k", now) is False  # finds it renewed


def test_a_key_inside_the_dedup_window_is_still_a_duplicate(ctx):
    settings.set_value("dedup_window_hours", "0.5")
    db.session.commit()
    payload, raw = delivery("message_create_user")
    store(payload, raw, None)
    key = db.session.scalar(select(DedupKey))
    key.seen_at = utcnow() - timedelta(minutes=29)
    db.session.commit()
    assert store(payload, raw, None) == "duplicate"


def test_a_very_long_action_is_stored_cut_to_the_column(ctx):
    raw = json.dumps({"action": "x" * 200}).encode()
    assert store(json.loads(raw), raw, None) == "ignored"
    assert events()[0].action == "x" * 64


def test_without_an_integration_row_nothing_is_recorded_about_webhooks(ctx):
    assert store(*delivery("message_create_user"), None) == "accepted"
    assert db.session.get(Integration, 1) is None


def test_every_delivery_updates_when_the_last_webhook_arrived(app, connected):
    with app.app_context():
        assert db.session.get(Integration, 1).last_webhook_at is None
        before = utcnow()
        store(*delivery("message_create_user"), None)
        first = db.session.get(Integration, 1).last_webhook_at
        assert first is not None and first >= before
        for name, retry in (("message_create_user", 1), ("unknown_action", None)):
            old = first - timedelta(minutes=5)  # older than the refresh precision
            db.session.get(Integration, 1).last_webhook_at = old
            db.session.commit()
            store(*delivery(name), retry)
            assert db.session.get(Integration, 1).last_webhook_at > old  # duplicates too


def test_a_recent_last_webhook_time_is_not_written_again(app, connected):
    """That row is a hot spot: it is written at most once per LAST_SEEN_PRECISION."""
    with app.app_context():
        recent = utcnow() - timedelta(seconds=1)
        db.session.get(Integration, 1).last_webhook_at = recent
        db.session.commit()
        store(*delivery("message_create_user"), None)
        db.session.expire_all()
        assert db.session.get(Integration, 1).last_webhook_at == recent


def test_a_key_pruned_between_the_claim_and_the_renewal_is_new(ctx, monkeypatch):
    """Only expired keys are pruned: one gone in that instant had expired. (On PostgreSQL
    a prune committed meanwhile shows; here the transaction itself deletes it.)"""
    connection_class = Connection
    execute = connection_class.execute

    def prune_before_renewal(self, statement, values=None, **options):
        if statement is accept._RENEW:
            execute(self, delete(DedupKey))
        return execute(self, statement, values, **options)

    payload, raw = delivery("message_create_user")
    store(payload, raw, None)
    monkeypatch.setattr(connection_class, "execute", prune_before_renewal)
    assert store(payload, raw, 1) == "accepted"
    monkeypatch.undo()
    assert db.session.scalar(select(DedupKey.key)) is not None  # claimed anew, not lost
    assert store(payload, raw, 2) == "duplicate"
