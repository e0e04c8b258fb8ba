"""The sandbox: try the bridge without a Freshchat account.

`flask --app app sandbox` runs the Freshchat stand-in on its own port with two pages for
people (a customer chat and an agent view, pages.py), connects the bridge to it as Test &
Save does (setup.py) and serves the bridge (cli/sandbox.py).

This module holds the pure parts: who the sandbox's people are, and how the stand-in's
messages and conversations look on the two pages. No Flask, no database.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from opencx_bridge.freshchat.events import message_text

__all__ = [
    "ADMIN",
    "AI",
    "REP",
    "SANDBOX_DOMAIN",
    "Person",
    "People",
    "conversation_row",
    "message_view",
    "messages_view",
    "names_of",
]

SANDBOX_DOMAIN = "sandbox.freshchat.test"  # the domain the bridge saves for the stand-in


@dataclass(frozen=True)
class Person:
    email: str
    first_name: str
    last_name: str

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"


ADMIN = Person("admin@sandbox.test", "Ada", "Admin")  # owns the API token
AI = Person("ai@sandbox.test", "Aiden", "Bot")  # the agent the bridge answers as
REP = Person("rita@sandbox.test", "Rita", "Rep")  # the human rep you play in the agent view


@dataclass(frozen=True)
class People:
    """The stand-in's agent ids of the sandbox's people."""

    admin_id: str
    ai_id: str
    rep_id: str

    def role_of(self, agent_id: str | None) -> str:
        """"ai", "rep" or "agent" (anyone else) for an agent id."""
        if agent_id == self.ai_id:
            return "ai"
        if agent_id == self.rep_id:
            return "rep"
        return "agent"


def _full_name(record: dict[str, Any] | None, fallback: str) -> str:
    if not record:
        return fallback
    name = " ".join(p for p in (record.get("first_name"), record.get("last_name")) if p)
    return name or record.get("email") or fallback


def message_view(
    message: dict[str, Any], people: People, names: dict[str, str], for_agent: bool
) -> dict[str, Any] | None:
    """One message as a page shows it; None when the customer must not see it (a note)."""
    private = message.get("message_type") == "private"
    if private and not for_agent:
        return None
    actor_type, actor_id = message.get("actor_type"), message.get("actor_id")
    if actor_type == "user":
        role, author = "customer", names.get(actor_id or "", "Customer")
    elif actor_type == "agent":
        role, author = people.role_of(actor_id), names.get(actor_id or "", "Agent")
    else:
        role, author = "system", "Freshchat"
    return {
        "id": message.get("id"),
        "role": role,
        "author": author,
        "text": message_text(message),
        "private": private,
        "time": (message.get("created_time") or "")[11:16],  # HH:MM (UTC)
    }


def messages_view(
    messages: list[dict[str, Any]], people: People, names: dict[str, str], for_agent: bool
) -> list[dict[str, Any]]:
    """Oldest first; private notes only for the agent view."""
    shown = (message_view(m, people, names, for_agent) for m in messages)
    return [view for view in shown if view is not None]


def conversation_row(
    conversation: dict[str, Any],
    customer: dict[str, Any] | None,
    names: dict[str, str],
    last: dict[str, Any] | None,
) -> dict[str, Any]:
    """A line of the agent view's conversation list."""
    assignee = conversation.get("assigned_agent_id")
    return {
        "id": conversation["conversation_id"],
        "number": conversation.get("freshchat_conversation_id"),
        "customer": _full_name(customer, "Customer"),
        "email": (customer or {}).get("email") or "",
        "status": conversation.get("status"),
        "assignee": names.get(assignee, "someone else") if assignee else "unassigned",
        "last": message_text(last)[:80] if last else "",
        "private_last": bool(last and last.get("message_type") == "private"),
    }


def names_of(records: Iterable[dict[str, Any] | None]) -> dict[str, str]:
    """id → display name for agents and customers (None records are skipped)."""
    return {str(r["id"]): _full_name(r, str(r["id"])) for r in records if r}
