"""Webhooks as Freshchat sends them: envelopes, RSA signatures, echoes, simulated people.

Builders follow FRESHCHAT.md's tables; ``payload_shape`` switches between today's
``message_parts`` payloads and the older ``msg_parts`` ones (which also lack the
numeric freshchat_* IDs). Echoes of API calls go out on one background thread so
they arrive after the API response and in the order the calls were made.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import requests
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from opencx_bridge.freshchat.signature import freshchat_armour, generate_private_key
from opencx_bridge.freshchat.signature import sign as sign_body
from opencx_bridge.standin.state import StandinState, iso_now

__all__ = ["DEFAULT_ACTIONS", "PAYLOAD_VERSIONS", "WebhookState"]

log = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_ACTIONS = frozenset(
    {"message_create", "conversation_assignment", "conversation_resolution", "conversation_reopen"}
)
PAYLOAD_VERSIONS = {"new": "v2", "legacy": "v1"}  # header value per shape (not documented)
ECHO_GATE_SECONDS = 5.0  # an answer never closed (a client gone): its echoes go anyway
_NUMERIC_IDS = ("freshchat_conversation_id", "freshchat_channel_id")


def _envelope(
    actor_type: str, actor_id: str, action: str, data: dict[str, Any], at: str | None
) -> dict[str, Any]:
    return {
        "actor": {"actor_type": actor_type, "actor_id": actor_id},
        "action": action,
        "action_time": at or iso_now(),
        "data": data,
    }


class WebhookState(StandinState):
    """The account plus its webhook settings page and the people who use it."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.webhook_url: str | None = None
        self.subscribed: set[str] = set(DEFAULT_ACTIONS)
        self.payload_shape = "new"
        self.echo_webhooks = True
        self.api_actor = ("system", "system")  # who Freshchat names for changes made via API
        self.webhook_timeout = 10.0
        self.webhooks_sent: list[dict[str, Any]] = []
        self._private_key: RSAPrivateKey | None = None
        self._echo_queue: queue.Queue[tuple | None] = queue.Queue()
        self._echo_thread: threading.Thread | None = None

    # -- keys --------------------------------------------------------------------------

    @property
    def private_key(self) -> RSAPrivateKey:
        """The account's signing key, made on first use (start() makes it up front)."""
        with self._lock:
            if self._private_key is None:
                self._private_key = generate_private_key()
            return self._private_key

    @property
    def public_key_text(self) -> str:
        """The key as Freshchat's settings page shows it: one-line RSA PUBLIC KEY armour."""
        return freshchat_armour(self.private_key.public_key())

    # -- payload builders --------------------------------------------------------------

    def _shape_conversation(self, conversation: dict[str, Any]) -> dict[str, Any]:
        shaped = dict(conversation)
        if self.payload_shape == "legacy":
            for key in _NUMERIC_IDS:
                shaped.pop(key, None)
        return shaped

    def _shape_message(self, message: dict[str, Any]) -> dict[str, Any]:
        shaped = self._shape_conversation(message)
        if self.payload_shape == "legacy":  # FRESHCHAT.md gives legacy text parts only
            parts = shaped.pop("message_parts", [])
            shaped["msg_parts"] = [
                {"part_type": "text", "properties": {"text": p["text"]["content"]}}
                for p in parts
                if isinstance(p.get("text"), dict)
            ]
        return shaped

    def message_event(
        self, message: dict[str, Any], action_time: str | None = None
    ) -> dict[str, Any]:
        """message_create envelope; the actor is the message's author."""
        data = {"message": self._shape_message(message)}
        at = action_time or message.get("created_time")
        return _envelope(message["actor_type"], message["actor_id"], "message_create", data, at)

    def assignment_event(
        self,
        conversation: dict[str, Any],
        *,
        to_agent_id: str | None,
        from_agent_id: str | None = None,
        assignor: str = "agent",
        assignor_id: str = "",
        to_group_id: str | None = None,
        from_group_id: str | None = None,
        action_time: str | None = None,
    ) -> dict[str, Any]:
        """conversation_assignment envelope; an empty to_agent_id means back to the queue."""
        data = {
            "assignment": {
                "assignor": assignor,
                "assignor_id": assignor_id,
                "to_agent_id": to_agent_id or "",
                "to_group_id": to_group_id or "",
                "from_agent_id": from_agent_id or "",
                "from_group_id": from_group_id or "",
                "conversation": self._shape_conversation(conversation),
            }
        }
        return _envelope(assignor, assignor_id, "conversation_assignment", data, action_time)

    def resolution_event(
        self,
        conversation: dict[str, Any],
        *,
        resolver: str = "agent",
        resolver_id: str = "",
        action_time: str | None = None,
    ) -> dict[str, Any]:
        """conversation_resolution envelope."""
        resolve = {
            "resolver": resolver,
            "resolver_id": resolver_id,
            "conversation": self._shape_conversation(conversation),
            "interaction_id": self.interaction_id(conversation["conversation_id"]),
        }
        data = {"resolve": resolve}
        return _envelope(resolver, resolver_id, "conversation_resolution", data, action_time)

    def reopen_event(
        self,
        conversation: dict[str, Any],
        *,
        reopener: str = "user",
        reopener_id: str = "",
        action_time: str | None = None,
    ) -> dict[str, Any]:
        """conversation_reopen envelope (the conversation's status is "reopened")."""
        reopen = {
            "reopener": reopener,
            "reopener_id": reopener_id,
            "conversation": self._shape_conversation(conversation),
        }
        return _envelope(
            reopener, reopener_id, "conversation_reopen", {"reopen": reopen}, action_time
        )

    def events_for_update(
        self, before: dict[str, Any], after: dict[str, Any], actor: tuple[str, str]
    ) -> list[dict[str, Any]]:
        """The webhooks Freshchat fires for a conversation change (assignment, resolve, reopen)."""
        kind, actor_id = actor
        events = []
        agent_moved = (before["assigned_agent_id"] or "") != (after["assigned_agent_id"] or "")
        group_moved = (before["assigned_group_id"] or "") != (after["assigned_group_id"] or "")
        if agent_moved or group_moved:
            event = self.assignment_event(
                after,
                to_agent_id=after["assigned_agent_id"],
                from_agent_id=before["assigned_agent_id"],
                to_group_id=after["assigned_group_id"],
                from_group_id=before["assigned_group_id"],
                assignor=kind,
                assignor_id=actor_id,
            )
            events.append(event)
        if before["status"] != after["status"] and after["status"] == "resolved":
            events.append(self.resolution_event(after, resolver=kind, resolver_id=actor_id))
        if before["status"] != after["status"] and after["status"] == "reopened":
            events.append(self.reopen_event(after, reopener=kind, reopener_id=actor_id))
        return events

    # -- delivery ----------------------------------------------------------------------

    def send_webhook(
        self,
        payload: dict[str, Any] | bytes,
        *,
        sign: bool = True,
        signature: str | None = None,
        retry_count: int | None = None,
        headers: dict[str, str | None] | None = None,
    ) -> requests.Response:
        """POST one delivery to webhook_url now; headers set to None are left out."""
        if not self.webhook_url:
            raise RuntimeError("set webhook_url before sending webhooks")
        raw = payload if isinstance(payload, bytes) else _dump(payload)
        final = self._webhook_headers(raw, sign, signature, retry_count)
        for name, value in (headers or {}).items():
            final.pop(name, None)
            if value is not None:
                final[name] = value
        record: dict[str, Any] = {
            "url": self.webhook_url,
            "payload": payload if isinstance(payload, dict) else _load(raw),
            "raw": raw,
            "headers": final,
            "status": None,
            "error": None,
            "at": time.time(),
        }
        try:
            response = requests.post(
                self.webhook_url, data=raw, headers=final, timeout=self.webhook_timeout
            )
            record["status"] = response.status_code
            return response
        except requests.RequestException as exc:
            record["error"] = f"{type(exc).__name__}: {exc}"
            raise
        finally:
            with self._lock:
                self.webhooks_sent.append(record)

    def _webhook_headers(
        self, raw: bytes, do_sign: bool, signature: str | None, retry_count: int | None
    ) -> dict[str, str]:
        result = {
            "Content-Type": "application/json",
            "X-Freshchat-Payload-Version": PAYLOAD_VERSIONS.get(self.payload_shape, "v2"),
            "X-Retry-Count": str(retry_count or 0),
        }
        if signature is not None:
            result["X-Freshchat-Signature"] = signature
        elif do_sign:
            result["X-Freshchat-Signature"] = sign_body(raw, self.private_key)
        return result

    def deliver(self, event: dict[str, Any]) -> requests.Response | None:
        """Send now if a URL is set and the admin ticked this action; failures are recorded."""
        if not self.webhook_url or event.get("action") not in self.subscribed:
            return None
        try:
            return self.send_webhook(event)
        except requests.RequestException as exc:
            log.warning("stand-in webhook delivery failed: %s", exc)
            return None

    def echoes_for(self, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Which of an API call's events Freshchat would send, decided when the call is made."""
        if not (self.echo_webhooks and self.webhook_url):
            return []
        return [e for e in events if e.get("action") in self.subscribed]

    def queue_echoes(self, events: list[dict[str, Any]]) -> threading.Event:
        """Take the events' place in the delivery order now (the order of the calls, even
        when two calls' answers finish in the other order); the echo thread sends them once
        the returned gate is set (the caller has its answer) or after ECHO_GATE_SECONDS."""
        gate = threading.Event()
        self._echo_queue.put((events, gate))
        return gate

    def start_echo_worker(self) -> None:
        if self._echo_thread is None or not self._echo_thread.is_alive():
            self._echo_thread = threading.Thread(
                target=self._echo_loop, name="standin-webhooks", daemon=True
            )
            self._echo_thread.start()

    def stop_echo_worker(self, timeout: float = 5.0) -> None:
        """Stop delivering; echoes not yet sent are dropped, as when Freshchat goes away."""
        if self._echo_thread is not None:
            while not self._echo_queue.empty():
                self._echo_queue.get_nowait()
            self._echo_queue.put(None)
            self._echo_thread.join(timeout)
            self._echo_thread = None

    def _echo_loop(self) -> None:
        while (item := self._echo_queue.get()) is not None:
            events, gate = item
            gate.wait(ECHO_GATE_SECONDS)
            for event in events:
                try:
                    self.deliver(event)
                except Exception:  # never let the thread die: later echoes must still go out
                    log.exception("stand-in echo webhook failed")

    # -- people in the Freshchat UI ----------------------------------------------------

    def customer_says(
        self, cid: str, text: str = "", parts: list[dict[str, Any]] | None = None
    ) -> dict[str, Any]:
        """The customer writes (``parts``: e.g. ``[{"image": {"url": ...}}]``, a screenshot
        with no text); a resolved conversation reopens first, as in Freshchat."""
        conversation = self._require_conversation(cid)
        user_id = conversation["users"][0]["id"]
        events = []
        if conversation["status"] == "resolved":
            _, after = self.update_conversation(cid, {"status": "reopened"})
            events.append(self.reopen_event(after, reopener="user", reopener_id=user_id))
        message = self.add_message(cid, actor_type="user", actor_id=user_id, text=text,
                                   parts=parts)
        events.append(self.message_event(message))
        for event in events:
            self.deliver(event)
        return message

    def agent_says(
        self, cid: str, agent_id: str, text: str, private: bool = False
    ) -> dict[str, Any]:
        """A rep writes in the agent UI (a private note when ``private``)."""
        self._require_conversation(cid)
        kind = "private" if private else "normal"
        message = self.add_message(
            cid, actor_type="agent", actor_id=agent_id, text=text, message_type=kind
        )
        self.deliver(self.message_event(message))
        return message

    def assign(self, cid: str, agent_id: str | None, by_agent_id: str) -> dict[str, Any]:
        """A rep assigns the conversation (None / "" = back to the queue)."""
        changes = {"status": "assigned" if agent_id else "new", "assigned_agent_id": agent_id or ""}
        return self._rep_update(cid, changes, ("agent", by_agent_id))

    def resolve(self, cid: str, by_agent_id: str) -> dict[str, Any]:
        """A rep resolves the conversation."""
        return self._rep_update(cid, {"status": "resolved"}, ("agent", by_agent_id))

    def reopen(self, cid: str, by_agent_id: str | None = None) -> dict[str, Any]:
        """The conversation reopens (by the customer unless an agent is named)."""
        conversation = self._require_conversation(cid)
        actor = ("agent", by_agent_id) if by_agent_id else ("user", conversation["users"][0]["id"])
        return self._rep_update(cid, {"status": "reopened"}, actor)

    def _rep_update(
        self, cid: str, changes: dict[str, Any], actor: tuple[str, str]
    ) -> dict[str, Any]:
        self._require_conversation(cid)
        before, after = self.update_conversation(cid, changes)
        for event in self.events_for_update(before, after, actor):
            self.deliver(event)
        return after

    def _require_conversation(self, cid: str) -> dict[str, Any]:
        conversation = self.conversation(cid)
        if conversation is None:
            raise KeyError(f"no conversation {cid!r}")
        return conversation

    # -- test helper -------------------------------------------------------------------

    def wait_for(self, predicate: Callable[[], T], timeout: float = 10.0) -> T:
        """Poll until predicate() is truthy (for async echoes); return its value."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() >= deadline:
                raise AssertionError(f"condition not met within {timeout} s")
            time.sleep(0.02)


def _dump(payload: dict[str, Any]) -> bytes:
    """Compact UTF-8 JSON with raw non-ASCII, the way the bytes arrive from Freshchat."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _load(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return None
