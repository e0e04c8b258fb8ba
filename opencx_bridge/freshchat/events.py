"""Freshchat webhook JSON → typed, frozen events, plus the keys used to drop redeliveries.

Known actions (envelope ``{"actor", "action", "action_time", "data"}``):

- ``message_create``           → ``data.message``; kind ``message``
- ``conversation_assignment``  → ``data.assignment`` (+ ``.conversation``); kind ``assignment``
- ``conversation_resolution``  → ``data.resolve`` (+ ``.conversation``); kind ``resolution``
- ``conversation_reopen``      → ``data.reopen`` (+ ``.conversation``); kind ``reopen``
- ``conversation_close`` / ``conversation_closed`` / ``conversation_resolved``: undocumented
  aliases some accounts show; treated as ``resolution``.

Any other action containing "resolv" or "clos", or an unknown action whose conversation is
resolved/closed, is also kind ``resolution``. Everything else is kind ``unknown``: the intake
acknowledges, records and ignores it, so unknown actions never raise.

Freshchat payloads vary between accounts and versions, so every read is defensive: ids may
be ints (stringified), fields null or empty (→ None), objects lists. Enum-like fields
(actor_type, message_type, status, assignor/resolver) are lower-cased. Only a *known* action
missing what the bridge needs raises PayloadError, naming the field.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

__all__ = [
    "KNOWN_ACTIONS", "Conversation", "Event", "Message", "PayloadError",
    "action_kind", "conversation_id_of", "message_text", "dedup_key", "parse_event",
]

KNOWN_ACTIONS: frozenset[str] = frozenset({
    "message_create", "conversation_assignment", "conversation_resolution", "conversation_reopen",
    "conversation_close", "conversation_closed", "conversation_resolved",
})

CLOSED_STATUSES = frozenset({"resolved", "closed"})

# Where each action keeps its payload under `data`; close-ish aliases are guessed.
_SECTIONS: dict[str, tuple[str, ...]] = {
    "conversation_assignment": ("assignment",),
    "conversation_resolution": ("resolve", "resolution"),
    "conversation_reopen": ("reopen",),
}
_CLOSE_SECTIONS = ("resolve", "resolution", "close", "closed", "conversation")
_FIXED_KINDS = {
    "message_create": "message", "conversation_assignment": "assignment",
    "conversation_reopen": "reopen", "conversation_resolution": "resolution",
}
_ACTOR_ROLES = ("resolver", "reopener", "closer", "assignor")
_ASSIGNMENT_FIELDS = (
    "to_agent_id", "from_agent_id", "to_group_id", "from_group_id", "assignor_id",
)


class PayloadError(ValueError):
    """A known webhook action lacks a field the bridge needs; the message names it."""


@dataclass(frozen=True)
class Message:
    """One chat message; `text` joins every text part so old and new shapes read alike."""

    id: str
    conversation_id: str
    app_id: str | None
    channel_id: str | None
    user_id: str | None
    actor_type: str | None
    actor_id: str | None
    message_type: str
    text: str
    created_time: str | None
    freshchat_conversation_id: str | None
    freshchat_channel_id: str | None
    interaction_id: str | None
    attachments: tuple[str, ...] = ()  # images, files, video, audio: "image https://…"


@dataclass(frozen=True)
class Conversation:
    """The conversation snapshot that assignment/resolve/reopen events carry."""

    conversation_id: str
    app_id: str | None
    channel_id: str | None
    status: str | None
    assigned_agent_id: str | None
    assigned_group_id: str | None
    user_ids: tuple[str, ...]
    freshchat_conversation_id: str | None
    freshchat_channel_id: str | None


@dataclass(frozen=True)
class Event:
    """A parsed webhook: the envelope, its kind, and whatever the action carried."""

    action: str
    kind: str
    actor_type: str | None
    actor_id: str | None
    action_time: str | None
    conversation_id: str | None
    message: Message | None = None
    conversation: Conversation | None = None
    to_agent_id: str | None = None
    from_agent_id: str | None = None
    to_group_id: str | None = None
    from_group_id: str | None = None
    assignor: str | None = None
    assignor_id: str | None = None
    by: str | None = None
    by_id: str | None = None

    @property
    def is_close(self) -> bool:
        """True when the conversation ended, whatever the action was called."""
        if self.kind == "resolution":
            return True
        status = self.conversation.status if self.conversation else None
        return status in CLOSED_STATUSES


# --- defensive readers ---------------------------------------------------------------


def _obj(value: Any) -> dict[str, Any]:
    """The value if it is a JSON object, else an empty one, so lookups never raise."""
    return value if isinstance(value, dict) else {}


def _clean(value: Any) -> str | None:
    """Ids and scalars as text: ints stringified; None, "", and non-scalars become None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, str):
        return value.strip() or None
    return None


def _lower(value: Any) -> str | None:
    text = _clean(value)
    return text.lower() if text else None


def _require(value: str | None, field: str) -> str:
    if value is None:
        raise PayloadError(f"missing or invalid field: {field}")
    return value


def message_text(message: dict[str, Any]) -> str:
    """The text of a Freshchat message as webhooks and the API give it (one line a part).
    New `message_parts` first; fall back to legacy `msg_parts`. Non-text parts ignored."""
    texts = list(_new_part_texts(message.get("message_parts")))
    if not texts:
        texts = list(_legacy_part_texts(message.get("msg_parts")))
    return "\n".join(texts)


def _parts(value: Any) -> Iterable[dict[str, Any]]:
    return (part for part in value if isinstance(part, dict)) if isinstance(value, list) else ()


def _all_parts(value: Any, depth: int = 0) -> Iterable[dict[str, Any]]:
    """The parts, and the sub-parts a `collection` part holds (a few levels at most)."""
    for part in _parts(value):
        yield part
        collection = part.get("collection")
        if isinstance(collection, dict) and depth < 4:
            yield from _all_parts(collection.get("sub_parts"), depth + 1)


ATTACHMENT_KINDS = ("image", "file", "video", "audio")


def message_attachments(message: dict[str, Any]) -> tuple[str, ...]:
    """What a message carries besides text, for people to read: "image https://…",
    "file invoice.pdf https://…"."""
    found = []
    for part in _all_parts(message.get("message_parts")):
        for kind in ATTACHMENT_KINDS:
            item = part.get(kind)
            if isinstance(item, dict):
                bits = (kind, item.get("name"), item.get("url"))
                found.append(" ".join(str(bit) for bit in bits if isinstance(bit, str) and bit))
    return tuple(found)


def _new_part_texts(parts: Any) -> Iterable[str]:
    for part in _all_parts(parts):
        text = part.get("text")
        content = text.get("content") if isinstance(text, dict) else text
        if isinstance(content, str) and content:
            yield content


def _legacy_part_texts(parts: Any) -> Iterable[str]:
    for part in _parts(parts):
        if part.get("part_type", "text") != "text":
            continue
        text = _property(part.get("properties"), "text")
        if isinstance(text, str) and text:
            yield text


def _property(properties: Any, name: str) -> Any:
    """Read a property from either an object or a list of {name, value}."""
    if isinstance(properties, dict):
        return properties.get(name)
    if isinstance(properties, list):
        for item in properties:
            if isinstance(item, dict) and item.get("name") == name:
                return item.get("value")
    return None


# --- building blocks -----------------------------------------------------------------


def _parse_message(raw: Any, envelope_actor: dict[str, Any]) -> Message:
    if not isinstance(raw, dict):
        raise PayloadError("missing or invalid field: data.message")
    return Message(
        id=_require(_clean(raw.get("id")), "data.message.id"),
        conversation_id=_require(
            _clean(raw.get("conversation_id")), "data.message.conversation_id"
        ),
        app_id=_clean(raw.get("app_id")),
        channel_id=_clean(raw.get("channel_id")),
        user_id=_clean(raw.get("user_id")),
        actor_type=_lower(raw.get("actor_type")) or _lower(envelope_actor.get("actor_type")),
        actor_id=_clean(raw.get("actor_id")) or _clean(envelope_actor.get("actor_id")),
        message_type=_lower(raw.get("message_type")) or "normal",
        text=message_text(raw),
        attachments=message_attachments(raw),
        created_time=_clean(raw.get("created_time")),
        freshchat_conversation_id=_clean(raw.get("freshchat_conversation_id")),
        freshchat_channel_id=_clean(raw.get("freshchat_channel_id")),
        interaction_id=_clean(raw.get("interaction_id")),
    )


def _user_ids(conv: dict[str, Any]) -> tuple[str, ...]:
    users = conv.get("users")
    candidates = [_obj(user).get("id") for user in users] if isinstance(users, list) else []
    candidates.append(conv.get("user_id"))
    ids = (_clean(candidate) for candidate in candidates)
    return tuple(dict.fromkeys(i for i in ids if i))


def _parse_conversation(section: dict[str, Any]) -> Conversation | None:
    """The section's `conversation` object (or the section itself); None without an id."""
    conv = _obj(section.get("conversation")) or section
    conversation_id = _clean(conv.get("conversation_id")) or _clean(section.get("conversation_id"))
    if conversation_id is None:
        return None
    return Conversation(
        conversation_id=conversation_id,
        app_id=_clean(conv.get("app_id")),
        channel_id=_clean(conv.get("channel_id")),
        status=_lower(conv.get("status")),
        assigned_agent_id=_clean(conv.get("assigned_agent_id")),
        assigned_group_id=_clean(conv.get("assigned_group_id")),
        user_ids=_user_ids(conv),
        freshchat_conversation_id=_clean(conv.get("freshchat_conversation_id")),
        freshchat_channel_id=_clean(conv.get("freshchat_channel_id")),
    )


def _section(data: dict[str, Any], names: Iterable[str]) -> tuple[str | None, dict[str, Any]]:
    """First named object under `data`, else any object that looks like it holds a conversation."""
    for name in names:
        if isinstance(data.get(name), dict):
            return name, data[name]
    for name, value in data.items():
        if isinstance(value, dict) and ("conversation" in value or "conversation_id" in value):
            return name, value
    return None, {}


def action_kind(action: str) -> str:
    """What an action name alone says: message, assignment, reopen, resolution (any
    resolve- or close-ish name, in any case) or unknown. The intake and the parser share it."""
    if action in _FIXED_KINDS:
        return _FIXED_KINDS[action]
    lowered = action.lower()
    return "resolution" if "resol" in lowered or "clos" in lowered else "unknown"


def _kind(action: str, conversation: Conversation | None) -> str:
    kind = action_kind(action)
    if kind == "unknown" and conversation is not None and conversation.status in CLOSED_STATUSES:
        return "resolution"
    return kind


def _by(section: dict[str, Any], actor: dict[str, Any]) -> tuple[str | None, str | None]:
    """Who did it: resolver/reopener/closer/assignor, else the envelope actor."""
    for role in _ACTOR_ROLES:
        who, who_id = _lower(section.get(role)), _clean(section.get(f"{role}_id"))
        if who or who_id:
            return who, who_id
    return _lower(actor.get("actor_type")), _clean(actor.get("actor_id"))


# --- public API ----------------------------------------------------------------------


def parse_event(payload: dict) -> Event:
    """Turn a webhook body into an Event; PayloadError only when a known action is incomplete."""
    if not isinstance(payload, dict):
        raise PayloadError("missing or invalid field: payload (expected a JSON object)")
    action = _require(_clean(payload.get("action")), "action")
    actor, data = _obj(payload.get("actor")), payload.get("data")
    known = action in KNOWN_ACTIONS
    if known and not isinstance(data, dict):
        raise PayloadError("missing or invalid field: data")
    data = _obj(data)
    envelope = {
        "action": action,
        "actor_type": _lower(actor.get("actor_type")),
        "actor_id": _clean(actor.get("actor_id")),
        "action_time": _clean(payload.get("action_time")),
    }
    if action == "message_create":
        message = _parse_message(data.get("message"), actor)
        return Event(kind="message", conversation_id=message.conversation_id,
                     message=message, **envelope)
    return _conversation_event(action, known, data, actor, envelope)


def _conversation_event(
    action: str, known: bool, data: dict[str, Any], actor: dict[str, Any], envelope: dict
) -> Event:
    names = _SECTIONS.get(action, _CLOSE_SECTIONS)
    name, section = _section(data, names)
    conversation = _parse_conversation(section)
    if known and conversation is None:
        where = f"data.{name or names[0]}"
        raise PayloadError(f"missing or invalid field: {where}.conversation.conversation_id")
    kind = _kind(action, conversation)
    by, by_id = _by(section, actor)
    conversation_id = conversation.conversation_id if conversation else None
    extra: dict[str, Any] = {}
    if kind == "assignment":
        extra = {f: _clean(section.get(f)) for f in _ASSIGNMENT_FIELDS}
        extra["assignor"] = _lower(section.get("assignor"))
    return Event(
        kind=kind,
        conversation_id=conversation_id or conversation_id_of({"data": data}),
        conversation=conversation,
        by=by,
        by_id=by_id,
        **extra,
        **envelope,
    )


def conversation_id_of(payload: dict) -> str | None:
    """Best-effort conversation UUID for ordering events; never raises."""
    data = _obj(_obj(payload).get("data"))
    found = _clean(_obj(data.get("message")).get("conversation_id"))
    if found:
        return found
    for value in data.values():
        section = _obj(value)
        found = _clean(_obj(section.get("conversation")).get("conversation_id")) or _clean(
            section.get("conversation_id")
        )
        if found:
            return found
    return _clean(data.get("conversation_id"))


def message_id_of(payload: dict) -> str | None:
    """The message id of a message_create payload; never raises."""
    return _clean(_obj(_obj(_obj(payload).get("data")).get("message")).get("id"))


def dedup_key(payload: dict, raw: bytes) -> str:
    """Stable key for a delivery so Freshchat's redeliveries can be dropped; never raises."""
    payload = _obj(payload)
    action = _clean(payload.get("action"))
    if action == "message_create":
        message_id = _clean(_obj(_obj(payload.get("data")).get("message")).get("id"))
        if message_id:
            return _fit(f"message:{message_id}")
    elif action:
        conversation_id = conversation_id_of(payload)
        action_time = _clean(payload.get("action_time"))
        actor_id = _clean(_obj(payload.get("actor")).get("actor_id"))
        if conversation_id and action_time and actor_id:
            return _fit(f"{action}:{conversation_id}:{action_time}:{actor_id}")
    return f"raw:{_raw_digest(raw)}"


def _fit(key: str) -> str:
    """Keys are stored in a 255-character column; hash the rare absurdly long one."""
    return key if len(key) <= 255 else f"sha256:{_raw_digest(key)}"


def parse_time(value: Any) -> datetime | None:
    """An ISO time as Freshchat writes it ("2026-12-04T10:00:00.123Z") as naive UTC; None
    when there is none or it cannot be read."""
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.replace(tzinfo=None) - (moment.utcoffset() or timedelta(0))


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def has_lone_surrogate(text: str | None) -> bool:
    """JSON may carry "\\ud800" alone; it is no character, and no database can store it."""
    return bool(text) and _LONE_SURROGATE.search(text) is not None


def repaired(value: Any) -> Any:
    """The payload with every lone surrogate in its strings replaced by U+FFFD (a proper
    pair is one character already once JSON is decoded)."""
    if isinstance(value, str):
        return _LONE_SURROGATE.sub("\ufffd", value) if has_lone_surrogate(value) else value
    if isinstance(value, dict):
        return {repaired(key): repaired(item) for key, item in value.items()}
    if isinstance(value, list):
        return [repaired(item) for item in value]
    return value


def _raw_digest(raw: Any) -> str:
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "surrogatepass")
    try:
        return hashlib.sha256(raw).hexdigest()
    except (TypeError, ValueError, BufferError):
        return hashlib.sha256(repr(raw).encode("utf-8", "backslashreplace")).hexdigest()
