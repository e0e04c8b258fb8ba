"""Pure text helpers shared by search, confidence and small talk: no Flask, no database.

`words()` splits text the way the FTS5 `unicode61 remove_diacritics 2` tokenizer does
(letters and digits, accents folded, lower-cased). `terms()` turns text into the content
terms the confidence is computed on: stop-words dropped, plurals and -ing/-ed folded by a
deliberately light stemmer (the same function on the query and on the articles, so the
two always agree even where the stem is not a real word).
"""

from __future__ import annotations

import re
import unicodedata

_WORD = re.compile(r"[^\W_]+")
MAX_QUERY_WORDS = 32  # a pasted e-mail must not turn into a 500-term MATCH


def _listed(block: str) -> list[str]:
    return block.split()


STOP_WORDS = frozenset(_listed("""
a about above after again against all also am an and any are as at be because been before
being below between both but by can cannot could did do does doing done down during each
else ever few for from further had has have having he her here hers herself him himself his
how i if in into is it its itself just me might more most must my myself no nor not now of
off on once only or other ought our ours ourselves out over own same shall she should so
some such much many than that the their theirs them themselves then there these they this those
through to too under until up very was we were what when where which while who whom why
will with would yes you your yours yourself yourselves hi hello hey dear pls please thanks
thank thx ok okay anyone someone something im ive dont doesnt cant wont isnt us let don
doesn didn isn aren wasn weren won ll ve re
"""))

# Words every support question shares. They count for little in the coverage and never
# confirm a match on their own (see scoring.py).
GENERIC_WORDS = frozenset(_listed("""
help question questions order orders issue issues problem problems need want know tell get
got make thing things info information support customer service ask asking like way time
long take takes took work working trying try use using new one possible anything find
"""))


def words(text: str, shortest: int = 2) -> list[str]:
    """Lower-cased letter/digit runs with accents removed, at least `shortest` long."""
    folded = unicodedata.normalize("NFKD", text.lower())
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return [w for w in _WORD.findall(folded) if len(w) >= shortest]


def stem(word: str) -> str:
    """Light suffix folding: deliveries→delivery, boxes→box, shipping→ship, refunded→refund,
    changes/changing/changed→chang. Not linguistics, just consistency."""
    if word.isdigit() or len(word) <= 3:
        return word
    if word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith("es") and word[:-2].endswith(("ss", "x", "z", "ch", "sh")):
        word = word[:-2]
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    if word.endswith("ally") or (word.endswith("ly") and len(word) > 5):
        word = word[:-2]  # internationally → international, weekly → week
    for suffix in ("ing", "ed"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "lsz":
                word = word[:-1]  # shipp → ship
            break
    if word.endswith("e") and len(word) > 3:
        word = word[:-1]
    return word


def terms(text: str) -> list[str]:
    """Content terms of `text`, stemmed, in order, with repeats (for term frequencies)."""
    return [stem(w) for w in words(text) if w not in STOP_WORDS]


def query_terms(text: str) -> list[str]:
    """Distinct content terms of a query, first occurrence first, at most MAX_QUERY_WORDS."""
    return list(dict.fromkeys(terms(text)))[:MAX_QUERY_WORDS]


def is_generic(term: str) -> bool:
    return term in _GENERIC_STEMS


def fts_match_query(text: str) -> str | None:
    """An FTS5 MATCH expression that cannot be a syntax error: each content word becomes a
    double-quoted string (so `NEAR`, `OR`, `*`, `-`, `:` and quotes are just text; the
    words themselves never contain a quote), joined with OR, followed by our own stems of
    the words where they differ (FTS5's porter stemmer folds a little differently).
    None when nothing is left."""
    content = [w for w in words(text) if w not in STOP_WORDS][:MAX_QUERY_WORDS]
    chosen = dict.fromkeys(content)
    chosen.update(dict.fromkeys(stem(w) for w in content))  # recall where porter differs
    if not chosen:
        return None
    return " OR ".join(f'"{w}"' for w in chosen)


def normalise_question(text: str) -> str:
    """The identity of a question for re-imports: its words, lower-cased, single-spaced."""
    return " ".join(words(text, shortest=1))


def slug(text: str) -> str:
    return "-".join(words(text, shortest=1)) or "section"


_GENERIC_STEMS = frozenset(stem(w) for w in GENERIC_WORDS)
