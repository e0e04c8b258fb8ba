"""The responder interface and the placeholder responder the engine starts with.

The knowledge-base and model-backed responders (the AI issue) implement the same
Protocol; the engine and worker never look past it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Turn:
    author: str  # customer | ai | agent
    text: str


@dataclass(frozen=True)
class Answer:
    text: str
    confidence: float  # 0..1
    topic: str | None = None
    wants_human: bool = False


class ResponderError(Exception):
    """The responder could not produce an answer (model down, bad output...)."""


class Responder(Protocol):
    def respond(self, question: str, history: Sequence[Turn]) -> Answer:
        """Answer `question` (the unanswered customer text); `history` holds the earlier
        turns, oldest first, without the question itself."""
        ...


class AcknowledgingResponder:
    """Not an AI: acknowledges every message. A stand-in until the knowledge base lands."""

    TEXT = ("Thanks for your message! We have received it and will get back to you "
            "here shortly.")

    def respond(self, question: str, history: Sequence[Turn]) -> Answer:
        return Answer(text=self.TEXT, confidence=1.0)
