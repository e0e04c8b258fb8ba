"""Plain data the engine reads and returns."""

from __future__ import annotations

from dataclasses import dataclass, field

OPEN, HANDED_OFF, RESOLVED = "open", "handed_off", "resolved"
AUTO, ASSIGNED_ONLY = "auto", "assigned_only"
# A person gave a handed-off conversation back to the AI (dashboard or CLI): stored as an
# event of the bridge's own, processed in order with the conversation's webhooks.
RETURN_TO_AI = "bridge_return_to_ai"


@dataclass(frozen=True)
class Settings:
    ai_agent_id: str
    auto_handle_all: bool = True
    reopen_returns_to_ai: bool = True
    takeover_assigns_rep: bool = True

    @property
    def routing_mode(self) -> str:
        return AUTO if self.auto_handle_all else ASSIGNED_ONLY


@dataclass(frozen=True)
class SessionState:
    status: str = OPEN
    routing_mode: str = AUTO  # fixed when the session starts: a mode change affects new ones
    assigned_agent_id: str | None = None
    pending_question: str | None = None  # customer text not answered yet, by AI or human
    handoff_reason: str | None = None


@dataclass(frozen=True)
class Assign:
    """Claim the conversation for an agent (PUT status assigned)."""

    agent_id: str


@dataclass(frozen=True)
class ReplyToCustomer:
    """Ask the responder about the customer's latest message and post its answer."""

    question: str


@dataclass(frozen=True)
class CancelPendingReplies:
    """A human is in charge now: replies queued but not yet sent must not go out."""


Action = Assign | ReplyToCustomer | CancelPendingReplies


@dataclass(frozen=True)
class TranscriptLine:
    author: str  # customer | agent
    text: str
    message_id: str
    actor_id: str | None
    attachments: tuple[str, ...] = ()


@dataclass(frozen=True)
class Decision:
    """What to do about one event, and why (the reason goes to the timeline)."""

    state: SessionState
    outcome: str  # act | skip | record | ignore
    reason: str
    actions: tuple[Action, ...] = ()
    transcript: TranscriptLine | None = None
    notes: tuple[str, ...] = field(default=())
