"""What the engine needs to know that the webhook does not say: read from Freshchat.

Reads that fail for good (404, 403, a bad answer) leave the fact out and say so in the
timeline; reads that may work later (timeouts, 5xx, 429, a rejected token) raise, so the
event is retried instead of decided on half the facts.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from opencx_bridge.freshchat import errors
from opencx_bridge.freshchat.account import agent_display_name
from opencx_bridge.freshchat.client import FreshchatClient
from opencx_bridge.freshchat.events import Event
from opencx_bridge.store import contacts
from opencx_bridge.store.models import ChatSession

_names: dict[str, str] = {}
_names_lock = threading.Lock()


@dataclass
class Facts:
    conversation: dict | None = None  # GET /v2/conversations/{id}, for a new session
    user_id: str | None = None
    user: dict | None = None  # GET /v2/users/{id} when read (see profile); None: not read
    names: dict[str, str] = field(default_factory=dict)


def gather(client: FreshchatClient, event: Event, session: ChatSession | None,
           ai_agent_id: str, ai_agent_name: str | None) -> Facts:
    """What deciding needs: the conversation when the bridge has never seen it, and the
    names of the agents involved. Not the customer's profile: a reply does not need it
    (profile() reads it for a handoff note; scheduler/profiles.py later for the rest)."""
    facts = Facts()
    if session is None and event.conversation_id:
        facts.conversation = _read(client.get_conversation, event.conversation_id)
    facts.user_id = _customer_id(event, facts.conversation, session)
    facts.names[ai_agent_id] = ai_agent_name or "the AI agent"
    for agent_id in _agents_to_name(event, session, facts.conversation):
        if agent_id and agent_id not in facts.names:
            facts.names[agent_id] = agent_name(client, agent_id)
    return facts


def profile(client: FreshchatClient, facts: Facts) -> None:
    """The customer's profile (GET /v2/users/{id}), once per Freshchat user: into facts.user
    ({} when Freshchat has none) unless the contact is known already."""
    if facts.user_id and facts.user is None and contacts.known_contact_id(facts.user_id) is None:
        facts.user = _read(client.get_user, facts.user_id) or {}


def agent_name(client: FreshchatClient, agent_id: str) -> str:
    with _names_lock:
        if agent_id in _names:
            return _names[agent_id]
    agent = _read(client.get_agent, agent_id)
    name = agent_display_name(agent) if agent else f"agent {agent_id}"
    with _names_lock:  # a definitive answer either way; transient failures raised above
        _names[agent_id] = name
    return name


def _read(call, *args) -> dict | None:
    try:
        return call(*args)
    except errors.FreshchatError as exc:
        if exc.retryable or isinstance(exc, errors.Unauthorized):
            raise
        return None


def _customer_id(event: Event, conversation: dict | None, session: ChatSession | None):
    message = event.message
    if message and (message.actor_type or "").lower() == "user":
        return message.user_id or message.actor_id
    if session is not None and session.freshchat_user_id:
        return session.freshchat_user_id
    users = (conversation or {}).get("users") or []
    if users and isinstance(users[0], dict) and users[0].get("id"):
        return str(users[0]["id"])
    return None


def _agents_to_name(event: Event, session: ChatSession | None, conversation: dict | None):
    yield event.to_agent_id
    if (event.assignor or "agent") == "agent":  # not "system" or "user": no agent to ask for
        yield event.assignor_id
    if (event.by or "agent") == "agent":
        yield event.by_id
    if event.message and (event.message.actor_type or "").lower() == "agent":
        yield event.message.actor_id
    if session is not None:
        yield session.assigned_agent_id
    if conversation:
        yield str(conversation.get("assigned_agent_id") or "") or None
