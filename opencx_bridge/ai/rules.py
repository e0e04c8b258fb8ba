"""Pure handoff signals: an explicit request for a person, the same question asked again,
a topic the AI may not handle on its own.

`wants_human` works on intent phrases rather than keywords, because person words are
everywhere in support chats ("someone stole my package", "the human resources page is
broken", "my agent code is 123") and a keyword match would hand those off for nothing.
A message asks for a person when it has:

1. a request verb followed by a person noun with only small words in between
   ("can I *talk to* a real *person*", "*get* me an *agent*", "I'd *like* a *human*"),
2. a person noun followed by a way to reach them ("is there *someone* I can *talk* to",
   "is a *human* available", "anyone there?"),
3. a call-back or escalation phrase ("call me back", "give me a call", "transfer me",
   "escalate this"), or
4. a short plea made only of person words and plea words ("HUMAN AGENT NOW!!!", "agent!",
   "real person please", "customer service rep").

Person nouns tolerate one typo ("persn", "humna", "agnet"). A noun directly followed by a
word that makes it a thing ("human resources", "agent code", "someone's parcel") is not a
person, and a request right after a negation ("I don't need a human") does not count.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_NOUN_WORDS = """
    human humans person persons people agent agents representative representatives rep reps
    operator operators someone somebody anyone anybody staff employee manager supervisor
    advisor adviser
"""
_NOUNS = frozenset(_NOUN_WORDS.split())
# Nouns long and distinctive enough to match with one typo (not "staff" ~ "stuff").
_FUZZY = ("human", "person", "agent", "representative", "operator", "someone", "somebody",
          "supervisor", "employee")
_VERB_WORDS = """
    talk speak chat connect transfer get want need reach contact put give like pass forward
    switch route
"""
_VERBS = frozenset(_VERB_WORDS.split())
_FILLER_WORDS = """
    to with me us a an the some one of real live actual proper human your you please pls now
    just right away directly over through quickly asap immediately talk speak chat and or
    another different any w
"""
_FILLER = frozenset(_FILLER_WORDS.split())
_PLEA_WORDS = """
    please pls plz now asap immediately right away a an the real live actual human i want need
    me give get just can could you to with talk speak chat connect transfer
"""
_PLEA = frozenset(_PLEA_WORDS.split())
# After a person noun these make it a thing, not a person: "human resources", "agent code".
_THING_WORDS = """
    resources resource error errors rights code codes id number name names portal page login
    account fee fees commission list details email app software license s
"""
_THINGS = frozenset(_THING_WORDS.split())
_NEGATIONS = frozenset({"not", "dont", "never", "noneed", "doesnt", "didnt", "without"})
_WANTING = frozenset({"id", "would", "wed"})  # "like" is a request only as "I'd like"
_REACH = ("talk", "speak", "chat", "available", "online", "there")
_BETWEEN_NOUN_AND_REACH = frozenset({"i", "can", "could", "may", "we", "to", "is", "are",
                                     "available", "who"})
_CALL_ME = re.compile(r"\b(?:call|phone|ring) me(?:$| (?:back|please|pls|now|asap|on|at|today"
                      r"|tomorrow|soon|later|instead|urgently|right|immediately|directly|about"
                      r"|when|if|as|so)\b)|\b(?:give me a (?:call|ring)|call ?back|transfer me"
                      r"|put me through|escalate|escalation)\b")
_MULTIWORD = (("customer service", "staff"), ("customer support", "staff"),
              ("customer care", "staff"), ("support team", "staff"), ("help desk", "staff"),
              ("helpdesk", "staff"), ("some one", "someone"), ("some body", "somebody"),
              ("any one", "anyone"), ("any body", "anybody"), ("you people", "you"),
              ("no need", "noneed"))


def _words(text: str) -> list[str]:
    """Lower-case words; apostrophes dropped ("don't" -> "dont"), "'s" kept as "s"."""
    text = re.sub(r"['’]s\b", " s", text.lower())
    text = re.sub(r"['’]", "", text)
    text = " ".join(re.findall(r"[a-z0-9]+", text))
    for phrase, word in _MULTIWORD:
        text = re.sub(rf"\b{phrase}\b", word, text)
    return text.split()


def _distance_at_most_one(a: str, b: str) -> bool:
    """Damerau-Levenshtein distance <= 1 (one insert, delete, change or swap)."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    prefix = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y),
                  min(len(a), len(b)))
    a_rest, b_rest = a[prefix:], b[prefix:]
    return (a_rest[1:] == b_rest[1:] or a_rest[1:] == b_rest or a_rest == b_rest[1:]
            or (len(a_rest) >= 2 and a_rest[1] + a_rest[0] + a_rest[2:] == b_rest))


def _is_noun(word: str) -> bool:
    if word in _NOUNS:
        return True
    return len(word) >= 4 and any(_distance_at_most_one(word, noun) for noun in _FUZZY)


def _person_at(words: list[str], index: int) -> bool:
    """A person noun at `index` that is not the first half of a thing ("agent code")."""
    following = words[index + 1] if index + 1 < len(words) else ""
    return _is_noun(words[index]) and following not in _THINGS


def _negated(words: list[str], index: int) -> bool:
    return any(word in _NEGATIONS for word in words[max(0, index - 4):index])


def _verb_then_person(words: list[str]) -> bool:
    for index, word in enumerate(words):
        if word not in _VERBS or _negated(words, index):
            continue
        if word == "like" and (index == 0 or words[index - 1] not in _WANTING):
            continue
        for after in range(index + 1, min(len(words), index + 7)):
            if _person_at(words, after):
                return True
            if words[after] not in _FILLER:
                break
    return False


def _person_then_reach(words: list[str]) -> bool:
    for index in range(len(words)):
        if not _person_at(words, index) or _negated(words, index):
            continue
        for after in range(index + 1, min(len(words), index + 5)):
            if words[after] in _REACH:
                return True
            if words[after] not in _BETWEEN_NOUN_AND_REACH:
                break
    return False


def _short_plea(words: list[str]) -> bool:
    if not words or len(words) > 6:
        return False
    nouns = [i for i in range(len(words)) if _person_at(words, i)]
    return bool(nouns) and all(i in nouns or w in _PLEA for i, w in enumerate(words))


def wants_human(text: str) -> bool:
    """Whether the customer explicitly asks for a person (see the module docstring). Each
    sentence is judged alone, so a negation in one ("that didn't help.") does not cancel a
    request in the next ("I want a human")."""
    return any(_sentence_wants_human(_words(sentence))
               for sentence in re.split(r"[.!?;\n]+", text))


def _sentence_wants_human(words: list[str]) -> bool:
    joined = " ".join(words)
    match = _CALL_ME.search(joined)
    if match and not _negated(words, len(joined[: match.start()].split())):
        return True
    return _verb_then_person(words) or _person_then_reach(words) or _short_plea(words)


_STOPWORD_LIST = """
    a an the is are am was were be i my me you your please pls hi hello hey again still ok
    okay so just do does yes no thanks thank
"""
_STOPWORDS = frozenset(_STOPWORD_LIST.split())


def _question_key(text: str) -> frozenset[str]:
    """Content words, lower-case, with a plural "s" dropped: punctuation, case and small
    words do not make a question different."""
    words = re.findall(r"[a-z0-9]+", re.sub(r"['’]", "", text.lower()))
    return frozenset(w[:-1] if len(w) > 3 and w.endswith("s") else w
                     for w in words if w not in _STOPWORDS)


def repeated_question(question: str, earlier_customer_texts: Sequence[str],
                      threshold: float = 0.8) -> bool:
    """Whether `question` repeats an earlier customer message: the Jaccard similarity of
    their content words reaches `threshold`. A repeat means the last answer did not help.
    Messages with fewer than two content words ("ok", "hi", "yes") never count."""
    key = _question_key(question)
    if len(key) < 2:
        return False
    for earlier in earlier_customer_texts:
        other = _question_key(earlier)
        if other and len(key & other) / len(key | other) >= threshold:
            return True
    return False


def _topic_key(topic: str) -> str:
    return " ".join(re.sub(r"[-_]", " ", topic).lower().split())


def topic_allowed(topic: str | None, autopilot_topics: str) -> bool:
    """Whether the AI may answer on its own: `autopilot_topics` is a comma list compared
    without regard to case and spacing; an empty list allows every topic, and a non-empty
    list never allows an answer without a topic (we cannot tell it is on the list)."""
    allowed = {key for key in map(_topic_key, autopilot_topics.split(",")) if key}
    if not allowed:
        return True
    return topic is not None and _topic_key(topic) in allowed
