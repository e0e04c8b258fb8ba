"""Freshchat webhook payloads → Events: each fixture, the dedup keys, and malformed input."""

from __future__ import annotations

import copy
import hashlib
import json
import random
from pathlib import Path
from typing import Any

import pytest

from opencx_bridge.freshchat import events
from opencx_bridge.freshchat.events import (
    KNOWN_ACTIONS,
    Conversation,
    Event,
    PayloadError,
    conversation_id_of,
    dedup_key,
    parse_event,
)

FIXTURES = Path(__file__).parent / "fixtures" / "freshchat"

CONV = "7d1f3a5c-2b4e-4f60-9a8b-c1d2e3f4a5b6"
APP = "4f6c1d2e-8b3a-4c5d-9e7f-0a1b2c3d4e5f"
CHANNEL = "b2c4e6f8-1a3c-4e5a-8c7e-9f0a1b2c3d4e"
USER = "e3a1c5d7-9b2f-4a6c-8e0d-1f2a3b4c5d6e"
BOT = "a9b8c7d6-e5f4-4a3b-9c2d-1e0f9a8b7c6d"
HUMAN = "5c3e1a9f-7b6d-4e2c-8a1f-3d5b7c9e1f2a"
GROUP = "d4e5f6a7-b8c9-4d0e-8f1a-2b3c4d5e6f70"


def load(name: str) -> tuple[dict[str, Any], bytes]:
    """A fixture as (parsed payload, raw bytes), the pair the intake sees."""
    raw = (FIXTURES / name).read_bytes()
    return json.loads(raw), raw


def parsed(name: str) -> Event:
    return parse_event(load(name)[0])


def story_conversation(status: str, agent: str | None = HUMAN) -> Conversation:
    return Conversation(
        conversation_id=CONV, app_id=APP, channel_id=CHANNEL, status=status,
        assigned_agent_id=agent, assigned_group_id=GROUP, user_ids=(USER,),
        freshchat_conversation_id="428913", freshchat_channel_id="301",
    )


# --- one test per fixture ---------------------------------------------------------------


def test_user_message_new_shape():
    event = parsed("message_create_user.json")
    assert (event.action, event.kind, event.conversation_id) == ("message_create", "message", CONV)
    assert (event.actor_type, event.actor_id) == ("user", USER)
    assert event.action_time == "2026-11-24T10:15:30.123Z"
    message = event.message
    assert message is not None and event.conversation is None
    assert message.id == "0b6f2c1e-3d4a-4b5c-9e8f-7a6b5c4d3e21"
    assert message.text == "Hi, my order #1042 hasn't arrived yet."
    assert (message.app_id, message.channel_id, message.user_id) == (APP, CHANNEL, USER)
    assert (message.actor_type, message.actor_id, message.message_type) == ("user", USER, "normal")
    assert message.created_time == "2026-11-24T10:15:30.101Z"
    assert (message.freshchat_conversation_id, message.freshchat_channel_id) == ("428913", "301")
    assert message.interaction_id == "428913-1795947330123"
    assert not event.is_close


def test_user_message_legacy_shape_joins_text_parts_and_skips_images():
    message = parsed("message_create_user_legacy.json").message
    assert message is not None
    assert message.text == "Here is the tracking page:\nit says delivered, but nothing came."
    assert message.conversation_id == CONV
    assert message.freshchat_conversation_id is None and message.freshchat_channel_id is None


def test_agent_message():
    event = parsed("message_create_agent.json")
    assert event.message is not None
    assert (event.message.actor_type, event.message.actor_id) == ("agent", BOT)
    assert event.message.message_type == "normal"
    assert event.message.user_id is None
    assert event.message.text.startswith("Sorry about that!")


def test_private_note():
    message = parsed("message_create_private_note.json").message
    assert message is not None
    assert (message.message_type, message.actor_type, message.actor_id) == ("private", "agent", BOT)
    assert message.text.startswith("AI summary:")


def test_korean_and_emoji_message_text_survives():
    message = parsed("message_create_korean_emoji.json").message
    assert message is not None
    assert message.text == "안녕하세요, 주문한 물건이 아직 안 왔어요 😢📦"


def test_assignment_to_an_agent():
    event = parsed("conversation_assignment.json")
    assert (event.kind, event.conversation_id) == ("assignment", CONV)
    assert (event.to_agent_id, event.from_agent_id) == (HUMAN, None)  # "" -> None
    assert (event.to_group_id, event.from_group_id) == (GROUP, GROUP)
    assert (event.assignor, event.assignor_id) == ("agent", HUMAN)
    assert (event.by, event.by_id) == ("agent", HUMAN)
    assert event.conversation == story_conversation("assigned")
    assert event.message is None and not event.is_close


def test_assignment_to_a_group_only():
    event = parsed("conversation_assignment_group_only.json")
    assert event.kind == "assignment"
    assert (event.to_agent_id, event.to_group_id) == (None, GROUP)
    assert (event.from_agent_id, event.from_group_id) == (BOT, None)
    assert event.conversation == story_conversation("new", agent=None)


def test_resolution():
    event = parsed("conversation_resolution.json")
    assert (event.kind, event.conversation_id) == ("resolution", CONV)
    assert (event.by, event.by_id) == ("agent", HUMAN)
    assert event.conversation == story_conversation("resolved")
    assert event.to_agent_id is None and event.assignor is None
    assert event.is_close


def test_reopen():
    event = parsed("conversation_reopen.json")
    assert (event.kind, event.conversation_id) == ("reopen", CONV)
    assert (event.by, event.by_id) == ("user", USER)
    assert event.conversation == story_conversation("reopened")
    assert not event.is_close


def test_close_alias_is_a_resolution():
    event = parsed("conversation_close.json")
    assert (event.action, event.kind, event.conversation_id) == (
        "conversation_close", "resolution", CONV,
    )
    assert (event.by, event.by_id) == ("agent", HUMAN)
    assert event.conversation == story_conversation("closed")
    assert event.is_close


def test_unknown_action_is_kept_not_raised():
    event = parsed("unknown_action.json")
    assert (event.action, event.kind) == ("user_create", "unknown")
    assert (event.actor_type, event.actor_id) == ("user", USER)
    assert event.conversation_id is None and event.message is None and event.conversation is None
    assert not event.is_close


def test_every_fixture_parses():
    names = sorted(p.name for p in FIXTURES.glob("*.json"))
    assert len(names) == 11
    for name in names:
        assert isinstance(parsed(name), Event)


# --- kinds and close detection ------------------------------------------------------------


def test_known_actions_include_documented_and_close_aliases():
    assert {"message_create", "conversation_assignment", "conversation_resolution",
            "conversation_reopen", "conversation_close", "conversation_closed"} <= KNOWN_ACTIONS


@pytest.mark.parametrize("action", ["conversation_closed", "conversation_resolved",
                                    "chat_closed_by_bot", "resolve"])
def test_close_ish_actions_are_resolutions(action):
    payload, _ = load("conversation_resolution.json")
    payload["action"] = action
    assert parse_event(payload).kind == "resolution"


def test_unknown_action_with_closed_conversation_is_a_resolution():
    payload, _ = load("conversation_close.json")
    payload["action"] = "conversation_update"
    payload["data"] = {"update": payload["data"]["close"]}
    event = parse_event(payload)
    assert (event.kind, event.conversation_id, event.is_close) == ("resolution", CONV, True)


def test_assignment_of_a_resolved_conversation_stays_an_assignment_but_is_close():
    payload, _ = load("conversation_assignment.json")
    payload["data"]["assignment"]["conversation"]["status"] = "RESOLVED"
    event = parse_event(payload)
    assert event.kind == "assignment" and event.is_close


def test_numeric_ids_are_stringified_and_properties_list_tolerated():
    payload, _ = load("message_create_user_legacy.json")
    message = payload["data"]["message"]
    message.update(id=981, conversation_id=12345, user_id=77, actor_id=None, message_type=None)
    message["msg_parts"] = [{"part_type": "text", "properties": [{"name": "text", "value": "hi"}]}]
    parsed_message = parse_event(payload).message
    assert parsed_message is not None
    assert (parsed_message.id, parsed_message.conversation_id, parsed_message.user_id) == (
        "981", "12345", "77",
    )
    assert parsed_message.actor_id == USER  # falls back to the envelope actor
    assert parsed_message.message_type == "normal"
    assert parsed_message.text == "hi"


def test_message_without_text_parts_has_empty_text():
    payload, _ = load("message_create_user.json")
    payload["data"]["message"]["message_parts"] = [{"image": {"url": "https://x/y.png"}}]
    assert parse_event(payload).message.text == ""  # type: ignore[union-attr]


def test_conversation_user_ids_deduplicated_in_order():
    payload, _ = load("conversation_reopen.json")
    conv = payload["data"]["reopen"]["conversation"]
    conv["users"] = [{"id": USER}, {"id": 42}, {"id": USER}, "junk", {"id": None}]
    assert parse_event(payload).conversation.user_ids == (USER, "42")  # type: ignore[union-attr]


# --- parse errors name the field -----------------------------------------------------------


def _without(name: str, *path: str) -> dict[str, Any]:
    payload, _ = load(name)
    target = payload
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    return payload


@pytest.mark.parametrize(
    ("name", "path", "field"),
    [
        ("message_create_user.json", ("data",), "data"),
        ("message_create_user.json", ("data", "message"), "data.message"),
        ("message_create_user.json", ("data", "message", "id"), "data.message.id"),
        ("message_create_user.json", ("data", "message", "conversation_id"),
         "data.message.conversation_id"),
        ("conversation_assignment.json", ("data", "assignment", "conversation", "conversation_id"),
         "data.assignment.conversation.conversation_id"),
        ("conversation_resolution.json", ("data", "resolve"),
         "data.resolve.conversation.conversation_id"),
        ("conversation_reopen.json", ("data", "reopen", "conversation"),
         "data.reopen.conversation.conversation_id"),
        ("conversation_close.json", ("data", "close", "conversation"),
         ".conversation.conversation_id"),
        ("unknown_action.json", ("action",), "action"),
    ],
)
def test_parse_errors_name_the_missing_field(name, path, field):
    with pytest.raises(PayloadError, match=f"missing or invalid field: .*{field}"):
        parse_event(_without(name, *path))


def test_empty_message_id_is_an_error():
    payload, _ = load("message_create_user.json")
    payload["data"]["message"]["id"] = ""
    with pytest.raises(PayloadError, match="data.message.id"):
        parse_event(payload)


def test_non_object_payload_is_an_error():
    with pytest.raises(PayloadError, match="payload"):
        parse_event(["not", "an", "object"])  # type: ignore[arg-type]


# --- dedup keys and conversation ids -------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("message_create_user.json", "message:0b6f2c1e-3d4a-4b5c-9e8f-7a6b5c4d3e21"),
        ("message_create_private_note.json", "message:3e9c5f4b-6a7d-4e8f-8b1c-0d9e8f7a6b54"),
        ("conversation_assignment.json",
         f"conversation_assignment:{CONV}:2026-11-24T10:20:00.500Z:{HUMAN}"),
        ("conversation_resolution.json",
         f"conversation_resolution:{CONV}:2026-11-24T10:42:11.300Z:{HUMAN}"),
        ("conversation_reopen.json", f"conversation_reopen:{CONV}:2026-11-25T08:03:27.640Z:{USER}"),
        ("conversation_close.json", f"conversation_close:{CONV}:2026-11-25T09:30:00.000Z:{HUMAN}"),
    ],
)
def test_dedup_key_per_kind(name, expected):
    payload, raw = load(name)
    assert dedup_key(payload, raw) == expected


def test_dedup_key_falls_back_to_raw_hash_for_unknown_action_without_conversation():
    payload, raw = load("unknown_action.json")
    assert dedup_key(payload, raw) == f"raw:{hashlib.sha256(raw).hexdigest()}"


def test_dedup_key_falls_back_to_raw_hash_when_fields_missing():
    payload, raw = load("conversation_resolution.json")
    payload["actor"]["actor_id"] = None
    assert dedup_key(payload, raw) == f"raw:{hashlib.sha256(raw).hexdigest()}"
    message, raw_message = load("message_create_user.json")
    del message["data"]["message"]["id"]
    assert dedup_key(message, raw_message).startswith("raw:")


def test_dedup_key_is_the_same_for_a_redelivery_with_different_bytes():
    payload, raw = load("message_create_user.json")
    assert dedup_key(payload, raw) == dedup_key(payload, raw + b"\n")


def test_dedup_key_stays_short():
    payload, raw = load("conversation_reopen.json")
    payload["action"] = "x" * 400
    key = dedup_key(payload, raw)
    assert len(key) <= 255 and key.startswith("sha256:")


@pytest.mark.parametrize("name", ["message_create_user.json", "conversation_assignment.json",
                                  "conversation_resolution.json", "conversation_reopen.json",
                                  "conversation_close.json"])
def test_conversation_id_of_fixtures(name):
    assert conversation_id_of(load(name)[0]) == CONV


def test_conversation_id_of_unknown_action_looks_in_data_sections():
    assert conversation_id_of(load("unknown_action.json")[0]) is None
    assert conversation_id_of({"data": {"rating": {"conversation_id": 5}}}) == "5"
    csat = {"conversation": {"conversation_id": CONV}}
    payload = {"action": "csat_submitted", "data": {"csat": csat}}
    assert conversation_id_of(payload) == CONV
    assert parse_event(payload).conversation_id == CONV


# --- malformed input never escapes as anything but PayloadError ----------------------------

MALFORMED: list[Any] = [
    {},
    {"action": None},
    {"action": 17, "data": []},
    {"action": "message_create"},
    {"action": "message_create", "data": None},
    {"action": "message_create", "data": ["message"]},
    {"action": "message_create", "data": {"message": "hello"}},
    {"action": "message_create", "data": {"message": {"id": 1, "conversation_id": 2,
                                                       "message_parts": "text"}}},
    {"action": "message_create", "data": {"message": {"id": [], "conversation_id": {}}}},
    {"action": "conversation_assignment", "data": {"assignment": []}},
    {"action": "conversation_assignment", "data": {"assignment": {"conversation": "c"}}},
    {"action": "conversation_resolution", "data": {"resolve": {"conversation": {"users": 3}}}},
    {"action": "conversation_reopen", "actor": "agent", "data": {"reopen": None}},
    {"action": "user_create", "actor": [], "data": "user"},
    {"action": "whatever", "action_time": 1732443330, "data": {"x": {"conversation": []}}},
    [],
    "message_create",
    None,
    42,
]


def _mutations(seed: int, count: int) -> list[Any]:
    """Randomly damaged copies of the fixtures: fields deleted or swapped for junk."""
    rng = random.Random(seed)
    junk = [None, "", 0, 12345, -1, 3.5, True, [], {}, [1, "a"], {"k": None}, "text"]
    originals = [load(p.name)[0] for p in sorted(FIXTURES.glob("*.json"))]
    out = []
    for _ in range(count):
        payload = copy.deepcopy(rng.choice(originals))
        for _ in range(rng.randint(1, 4)):
            _damage(payload, rng, junk)
        out.append(payload)
    return out


def _damage(node: Any, rng: random.Random, junk: list[Any]) -> None:
    while isinstance(node, dict) and node:
        key = rng.choice(list(node))
        if rng.random() < 0.35 or not isinstance(node[key], dict | list):
            if rng.random() < 0.3:
                del node[key]
            else:
                node[key] = copy.deepcopy(rng.choice(junk))
            return
        node = node[key]
        if isinstance(node, list) and node:
            node = rng.choice(node)


@pytest.mark.parametrize("payload", MALFORMED + _mutations(seed=20261124, count=300))
def test_malformed_payloads_only_raise_payload_error(payload):
    try:
        event = parse_event(payload)
    except PayloadError:
        pass
    else:
        assert isinstance(event, Event) and isinstance(event.kind, str)
    key = dedup_key(payload, json.dumps(payload).encode())
    assert isinstance(key, str) and key and len(key) <= 255
    found = conversation_id_of(payload)
    assert found is None or isinstance(found, str)


def test_dedup_key_tolerates_raw_that_is_not_bytes():
    assert dedup_key({}, "text body").startswith("raw:")  # type: ignore[arg-type]
    assert dedup_key(None, bytearray(b"x")).startswith("raw:")  # type: ignore[arg-type]


@pytest.mark.parametrize("action, kind", [
    ("message_create", "message"), ("conversation_assignment", "assignment"),
    ("conversation_reopen", "reopen"), ("conversation_resolution", "resolution"),
    ("Conversation_Closed", "resolution"), ("CONVERSATION_CLOSE_REQUEST", "resolution"),
    ("user_create", "unknown"), ("MESSAGE_CREATE", "unknown"),
])
def test_the_action_name_alone_gives_the_kind_the_intake_and_the_parser_share(action, kind):
    from opencx_bridge.freshchat.events import action_kind

    assert action_kind(action) == kind
    payload = {"action": action, "data": {"resolve": {"conversation": {"conversation_id": "c"}}}}
    if kind in ("resolution", "unknown"):
        assert parse_event(payload).kind == kind  # stored as pending means acted on


def test_attachments_are_kept_and_text_in_collections_is_read():
    message = {"message_parts": [
        {"image": {"url": "https://cdn.example/shot.png"}},
        {"file": {"url": "https://cdn.example/invoice.pdf", "name": "invoice.pdf",
                  "content_type": "application/pdf", "file_size_in_bytes": 1200}},
        {"collection": {"sub_parts": [{"text": {"content": "see attached"}},
                                      {"video": {"url": "https://cdn.example/v.mp4"}}]}},
        {"quick_reply_button": {"label": "Yes", "payload": "yes"}},
    ]}
    assert events.message_text(message) == "see attached"
    assert events.message_attachments(message) == (
        "image https://cdn.example/shot.png", "file invoice.pdf https://cdn.example/invoice.pdf",
        "video https://cdn.example/v.mp4")
