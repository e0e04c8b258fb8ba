"""An extractive summary of a conversation for the private handoff and resolution notes.

No model: the agent picking up a handoff needs to see at a glance what the customer wanted
and what the bot already told them, in the customer's and the bot's own words. So we quote
the customer's first real question, the bot's last answer and the customer's latest
message, each trimmed to whole sentences, in the order they were said.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from opencx_bridge.ai.responder import Turn

EMPTY = "No messages yet."
ELLIPSIS = "…"
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")
_WORD = re.compile(r"[a-z0-9']+")
# Words that on their own make a message small talk rather than a question.
_FILLER_WORDS = """
    hi hello hey hiya there yo good morning afternoon evening thanks thank you thx ty ok okay
    yes no yeah yep nope bye cheers great cool a lot so much very please pls
"""
_FILLER = frozenset(_FILLER_WORDS.split())


def summarise(turns: Sequence[Turn], max_chars: int = 600) -> str:
    """Lines like `Customer asked: …` / `AI answered: …` / `Customer then said: …`,
    never longer than `max_chars` (cut with an ellipsis)."""
    if max_chars < 1:
        raise ValueError("max_chars must be at least 1")
    picks = _picks(turns)
    if not picks:
        return _fit(EMPTY, max_chars)
    overhead = sum(len(label) + 2 for _, label, _ in picks) + len(picks) - 1
    budgets = _budgets([len(text) for _, _, text in picks], max_chars - overhead)
    lines = [f"{label}: {_clip(text, budget)}"
             for (_, label, text), budget in sorted(zip(picks, budgets, strict=True))]
    return _fit("\n".join(lines), max_chars)


def _budgets(lengths: list[int], total: int) -> list[int]:
    """Share `total` characters fairly: short texts keep their length and leave what they
    do not need to the longer ones."""
    budgets = [0] * len(lengths)
    left = max(0, total)
    order = sorted(range(len(lengths)), key=lengths.__getitem__)
    for done, index in enumerate(order):
        budgets[index] = min(lengths[index], left // (len(order) - done))
        left -= budgets[index]
    return budgets


def _picks(turns: Sequence[Turn]) -> list[tuple[int, str, str]]:
    """(position, label, text) of the quoted turns, deduplicated."""
    customer = [(i, _squash(t.text)) for i, t in enumerate(turns)
                if t.author == "customer" and t.text.strip()]
    substantive = [(i, text) for i, text in customer if _is_substantive(text)] or customer
    picks: list[tuple[int, str, str]] = []
    if substantive:
        first_at, first = substantive[0]
        picks.append((first_at, "Customer asked", _lead(first, 3)))
        latest_at, latest = substantive[-1]
        if latest_at != first_at and _key(latest) != _key(first):
            picks.append((latest_at, "Customer then said", _lead(latest, 3)))
    answers = [(i, _squash(t.text)) for i, t in enumerate(turns)
               if t.author == "ai" and t.text.strip()]
    if answers:
        answer_at, answer = answers[-1]
        picks.append((answer_at, "AI answered", _lead(answer, 2)))
    return picks


def _squash(text: str) -> str:
    return " ".join(text.split())


def _key(text: str) -> tuple[str, ...]:
    return tuple(_WORD.findall(text.lower()))


def _is_substantive(text: str) -> bool:
    return any(word not in _FILLER for word in _key(text))


def _lead(text: str, sentences: int) -> str:
    """The first few sentences."""
    return " ".join(_SENTENCE_END.split(text)[:sentences])


def _clip(text: str, limit: int) -> str:
    """As many whole sentences as fit in `limit`; when not even the first fits, cut it at
    a word boundary and add an ellipsis."""
    if len(text) <= limit:
        return text
    kept = ""
    for sentence in _SENTENCE_END.split(text):
        candidate = f"{kept} {sentence}".strip()
        if len(candidate) > limit:
            break
        kept = candidate
    if kept and len(kept) + 1 + len(ELLIPSIS) <= limit:
        return f"{kept} {ELLIPSIS}"
    return kept or _fit(text, limit)


def _fit(text: str, limit: int) -> str:
    """Cut to `limit` characters at a word boundary where possible, ending in `…`."""
    if len(text) <= limit:
        return text
    if limit <= len(ELLIPSIS):
        return ELLIPSIS[:limit]
    cut = text[: limit - len(ELLIPSIS)]
    space = cut.rfind(" ")
    if space > len(cut) // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:-") + ELLIPSIS
