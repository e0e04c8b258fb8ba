"""What kind of handoff a reason is, for the overview's counts. Pure.

The reasons are the texts this package writes (engine/rules/handoff.py, routing.py, the
dashboard and the failure path); each is matched by the words it starts with or contains,
and a test runs every writer of a reason through `kind` so a new wording cannot slip into
"other" unnoticed.
"""

from __future__ import annotations

TAKEN_OVER = "taken_over"

# (kind, label for people, test on the reason text), first match wins.
KINDS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("office_hours", "office hours", ("office hours:",)),
    ("attachment", "image or file the AI cannot read", ("the message has no text",)),
    ("human_asked", "customer asked for a human", ("the customer asked for a human",)),
    ("frustration", "customer frustrated", ("the customer is frustrated",)),
    ("repeated", "same question asked again", ("the customer asked the same question",)),
    ("ai_error", "AI error or unavailable", ("AI unavailable", "processing failed")),
    ("ai_chose", "the AI chose to hand over", ("the AI chose to hand over",)),
    ("topic", "topic not on autopilot", ("topic '",)),
    ("low_confidence", "low confidence", ("low confidence",)),
    ("dashboard", "handed off from the dashboard", ("handed off from the dashboard",)),
    (TAKEN_OVER, "a rep took over", ("a human took over",)),
    ("assigned_to_rep", "assigned to a rep, not the AI", ("conversation is assigned to",)),
    ("reopened_to_team", "reopened; humans keep it", ("reopen_returns_to_ai is off",)),
)
OTHER = "other"
LABELS = {kind: label for kind, label, _ in KINDS} | {OTHER: "other"}


def kind(reason: str | None) -> str:
    text = reason or ""
    for name, _label, marks in KINDS:
        if any(text.startswith(mark) or mark in text for mark in marks):
            return name
    return OTHER
