"""The responder interface. The knowledge-base responder (kb/responder.py) and the
OpenAI-compatible one (ai/openai_compat.py) implement it; the engine never looks past it."""

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
        turns, oldest first, without the question itself. A responder whose `reads_images`
        is true is also called with `images=` (the addresses of images sent with it)."""
        ...
