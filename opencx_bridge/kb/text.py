"""Pure text helpers for small talk and import identities: no Flask, no database.

`words()` splits text into letter and digit runs, accents folded, lower-cased.
"""

from __future__ import annotations

import re
import unicodedata

_WORD = re.compile(r"[^\W_]+")


def words(text: str, shortest: int = 2) -> list[str]:
    """Lower-cased letter/digit runs with accents removed, at least `shortest` long."""
    folded = unicodedata.normalize("NFKD", text.lower())
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return [w for w in _WORD.findall(folded) if len(w) >= shortest]


def normalise_question(text: str) -> str:
    """The identity of a question for re-imports: its words, lower-cased, single-spaced."""
    return " ".join(words(text, shortest=1))


def slug(text: str) -> str:
    return "-".join(words(text, shortest=1)) or "section"

