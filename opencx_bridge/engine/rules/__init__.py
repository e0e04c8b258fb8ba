"""The decisions, as pure functions over plain data: no Flask, no SQLAlchemy, no I/O."""

from opencx_bridge.engine.rules.routing import decide
from opencx_bridge.engine.rules.types import (
    Assign,
    CancelPendingReplies,
    Decision,
    ReplyToCustomer,
    SessionState,
    Settings,
    TranscriptLine,
)

__all__ = [
    "Assign",
    "CancelPendingReplies",
    "Decision",
    "ReplyToCustomer",
    "SessionState",
    "Settings",
    "TranscriptLine",
    "decide",
]
