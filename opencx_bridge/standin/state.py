"""In-memory Freshchat account for the stand-in: agents, users, conversations, tokens.

Everything here is guarded by one re-entrant lock because the stand-in serves
requests on many threads while the test thread seeds data and inspects calls.
Getters hand out deep copies so nobody mutates the account behind the lock.
"""

from __future__ import annotations

import copy
import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from opencx_bridge.standin.faults import TrafficState

__all__ = ["CONVERSATION_STATUSES", "StandinState", "TokenInfo", "iso_now"]

CONVERSATION_STATUSES = frozenset({"new", "assigned", "resolved", "reopened"})


def iso_now() -> str:
    """Timestamps as Freshchat writes them: UTC, milliseconds, trailing Z."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _new_id() -> str:
    return str(uuid.uuid4())


@dataclass
class TokenInfo:
    """What a token may do; ``owner_id`` is the admin agent whose deactivation kills it."""

    can_manage: bool = True
    forbidden: bool = False
    owner_id: str | None = None


class StandinState(TrafficState):
    """One Freshchat account: agents, users, conversations, messages, tokens, faults."""

    def __init__(
        self,
        token: str = "test-token",
        domain: str = "acme.freshchat.com",
        rate_limit_per_minute: int | None = None,
    ):
        super().__init__(rate_limit_per_minute)
        self.token = token
        self.domain = domain
        self.organisation_id = random.randint(10**9, 10**10 - 1)
        self.app_id = _new_id()
        self.channel_id = _new_id()
        self.freshchat_channel_id = random.randint(100_000, 999_999)
        self._next_conversation_number = random.randint(10**5, 10**6)
        self.legacy_ids = False  # True: conversation ids as older accounts have them (82 chars)
        self._tokens: dict[str, TokenInfo] = {token: TokenInfo()}
        self._agents: dict[str, dict[str, Any]] = {}
        self._users: dict[str, dict[str, Any]] = {}
        self._conversations: dict[str, dict[str, Any]] = {}
        self._interactions: dict[str, str] = {}
        self._messages: dict[str, list[dict[str, Any]]] = {}

    # -- tokens ------------------------------------------------------------------------

    def add_token(
        self,
        token: str,
        can_manage: bool = True,
        forbidden: bool = False,
        owner_id: str | None = None,
    ) -> None:
        """Accept another token (or redefine one): read-only, forbidden, owned by an admin."""
        with self._lock:
            self._tokens[token] = TokenInfo(can_manage, forbidden, owner_id)

    def rotate_token(self, new: str) -> None:
        """Freshchat semantics: generating a new token invalidates the old one."""
        with self._lock:
            info = self._tokens.pop(self.token, TokenInfo())
            self._tokens[new] = info
            self.token = new

    def check_token(self, token: str | None, method: str) -> tuple[int, str, str] | None:
        """None when allowed, else (http status, Freshchat status, message)."""
        with self._lock:
            info = self._tokens.get(token) if token else None
            if info is None:
                return 401, "UNAUTHORIZED", "invalid or missing API token"
            owner = self._agents.get(info.owner_id) if info.owner_id else None
            if info.owner_id and (owner is None or owner["is_deactivated"] or owner["is_deleted"]):
                return 401, "UNAUTHORIZED", "the admin who created this token is deactivated"
            if info.forbidden:
                return 403, "FORBIDDEN", "this token is not allowed to use the API"
            if method.upper() not in ("GET", "HEAD", "OPTIONS") and not info.can_manage:
                return 403, "FORBIDDEN", "this token cannot modify conversations"
            return None

    def configuration(self) -> dict[str, Any]:
        """Body of GET /v2/accounts/configuration."""
        return {
            "organisation_id": self.organisation_id,
            "app_id": self.app_id,
            "account_domain": self.domain,
            "channel_id": self.channel_id,
        }

    # -- agents and users --------------------------------------------------------------

    def add_agent(
        self,
        email: str,
        first_name: str,
        last_name: str,
        *,
        deactivated: bool = False,
        deleted: bool = False,
        avatar_url: str | None = None,
    ) -> dict[str, Any]:
        """Create an agent; ``deleted`` keeps it listed with is_deleted true, as Freshchat does."""
        agent = {
            "id": _new_id(),
            "email": email,
            "first_name": first_name,
            "last_name": last_name,
            "avatar": {"url": avatar_url} if avatar_url else {},
            "is_deactivated": deactivated,
            "is_deleted": deleted,
            "availability_status": "AVAILABLE",
            "groups": [],
            "role_id": "AGENT",
            "created_time": iso_now(),
        }
        with self._lock:
            self._agents[agent["id"]] = agent
            return copy.deepcopy(agent)

    def update_agent(self, agent_id: str, **fields: Any) -> dict[str, Any]:
        """Change an agent's fields (e.g. is_deactivated=True) as an admin would in the UI."""
        with self._lock:
            self._agents[agent_id].update(fields)
            return copy.deepcopy(self._agents[agent_id])

    def delete_agent(self, agent_id: str) -> None:
        """Remove an agent entirely: 404 by ID and gone from the list."""
        with self._lock:
            del self._agents[agent_id]

    def agent(self, agent_id: str) -> dict[str, Any] | None:
        with self._lock:
            agent = self._agents.get(agent_id)
            return copy.deepcopy(agent) if agent else None

    def agents(self) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(list(self._agents.values()))

    def is_usable_agent(self, agent_id: object) -> bool:
        """Assignable / may post: exists and is not marked deleted."""
        with self._lock:
            agent = self._agents.get(agent_id) if isinstance(agent_id, str) else None
            return agent is not None and not agent["is_deleted"]

    def add_user(
        self,
        email: str | None = None,
        first_name: str = "Casey",
        last_name: str = "Customer",
        phone: str | None = None,
    ) -> dict[str, Any]:
        """Create a customer; without an email the key is absent, as in real payloads."""
        user: dict[str, Any] = {
            "id": _new_id(),
            "first_name": first_name,
            "last_name": last_name,
            "avatar": {},
            "properties": [],
            "reference_id": None,
            "created_time": iso_now(),
        }
        if email is not None:
            user["email"] = email
        if phone is not None:
            user["phone"] = phone
        with self._lock:
            self._users[user["id"]] = user
            return copy.deepcopy(user)

    def user(self, user_id: str) -> dict[str, Any] | None:
        with self._lock:
            user = self._users.get(user_id)
            return copy.deepcopy(user) if user else None

    # -- conversations and messages ----------------------------------------------------

    def add_conversation(
        self, user_id: str, assigned_agent_id: str | None = None, status: str = "new"
    ) -> dict[str, Any]:
        """Open a conversation for an existing user in the account's one channel."""
        if status not in CONVERSATION_STATUSES:
            raise ValueError(f"unknown status {status!r}")
        with self._lock:
            if user_id not in self._users:
                raise ValueError(f"unknown user {user_id!r}")
            self._next_conversation_number += 1
            legacy_id = f"{self.app_id}_{user_id}_feedback"  # FRESHCHAT.md: older accounts
            conversation = {
                "conversation_id": legacy_id if self.legacy_ids else _new_id(),
                "freshchat_conversation_id": self._next_conversation_number,
                "app_id": self.app_id,
                "channel_id": self.channel_id,
                "freshchat_channel_id": self.freshchat_channel_id,
                "status": status,
                "assigned_agent_id": assigned_agent_id,
                "assigned_group_id": None,
                "users": [{"id": user_id}],
                "properties": {},
                "created_time": iso_now(),
            }
            cid = conversation["conversation_id"]
            self._conversations[cid] = conversation
            self._messages[cid] = []
            self._interactions[cid] = str(random.randint(10**9, 10**10 - 1))
            return copy.deepcopy(conversation)

    def conversations(self) -> list[dict[str, Any]]:
        """Every conversation, oldest first."""
        with self._lock:
            return copy.deepcopy(list(self._conversations.values()))

    def conversation(self, cid: str) -> dict[str, Any] | None:
        with self._lock:
            conversation = self._conversations.get(cid)
            return copy.deepcopy(conversation) if conversation else None

    def interaction_id(self, cid: str) -> str:
        with self._lock:
            return self._interactions[cid]

    def update_conversation(
        self, cid: str, changes: dict[str, Any]
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Apply changes; return (before, after). "" for assigned_agent_id means unassigned."""
        with self._lock:
            conversation = self._conversations[cid]
            before = copy.deepcopy(conversation)
            for key, value in changes.items():
                conversation[key] = None if key == "assigned_agent_id" and not value else value
            if changes.get("status") == "reopened" and before["status"] != "reopened":
                self._interactions[cid] = str(random.randint(10**9, 10**10 - 1))
            return before, copy.deepcopy(conversation)

    def add_message(
        self,
        cid: str,
        *,
        actor_type: str,
        actor_id: str,
        text: str = "",
        message_type: str = "normal",
        parts: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """Store a message in REST shape (``parts`` as posted, else one text part)."""
        message_parts = copy.deepcopy(parts) if parts else [{"text": {"content": text}}]
        with self._lock:
            conversation = self._conversations[cid]
            message = {
                "id": _new_id(),
                "conversation_id": cid,
                "freshchat_conversation_id": conversation["freshchat_conversation_id"],
                "app_id": conversation["app_id"],
                "channel_id": conversation["channel_id"],
                "freshchat_channel_id": conversation["freshchat_channel_id"],
                "user_id": conversation["users"][0]["id"],
                "actor_type": actor_type,
                "actor_id": actor_id,
                "message_type": message_type,
                "message_parts": message_parts,
                "created_time": iso_now(),
                "interaction_id": self._interactions[cid],
            }
            self._messages[cid].append(message)
            return copy.deepcopy(message)

    def messages(self, cid: str) -> list[dict[str, Any]]:
        """A conversation's messages, oldest first."""
        with self._lock:
            return copy.deepcopy(self._messages.get(cid, []))
