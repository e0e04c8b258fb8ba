"""The embedded responder: answers from the knowledge base, no cloud account needed.

- Greetings and thanks on their own ("hi", "good morning", "thanks!", "thank you so much")
  get a short friendly answer with confidence 1.0 and topic "smalltalk", without a search.
  A greeting that carries a question ("hi, how long does shipping take?") is a question.
- Anything else is searched (search.py); the best match's answer, topic and confidence
  (fitted in ranking.py) come back as they are. The engine compares the confidence
  with its handoff threshold, so a weak match is never sent to the customer.
- No match at all (or an empty knowledge base) gives confidence 0 and a holding text.

Must be called inside an app context.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from opencx_bridge.ai.responder import Answer, Turn
from opencx_bridge.kb import text
from opencx_bridge.kb.search import Match, search

GREETING_REPLY = "Hi there! How can I help you today?"
THANKS_REPLY = "You're welcome! Is there anything else I can help you with?"
NO_ANSWER = ("I couldn't find an answer to that in our help articles, so I'm bringing in "
             "a member of our team.")
SMALLTALK_TOPIC = "smalltalk"

GREETING_WORDS = frozenset({"hi", "hello", "hey", "hiya", "howdy", "greetings", "yo",
                            "morning", "afternoon", "evening", "bonjour", "hallo", "hola"})
THANKS_WORDS = frozenset({"thanks", "thank", "thx", "ty", "cheers", "appreciate",
                          "appreciated", "thankyou", "tks", "tnx"})
# Words that may surround a greeting or thanks without making it a question.
FILLER_WORDS = frozenset({
    "there", "all", "everyone", "everybody", "team", "folks", "guys", "good", "day", "you",
    "so", "much", "very", "lot", "lots", "many", "again", "the", "it", "that", "this",
    "really", "for", "your", "help", "helpful", "great", "perfect", "awesome", "ok", "okay",
    "alright", "and", "oh", "well", "kind", "of", "bye", "goodbye", "have", "nice", "how",
    "are", "doing", "today", "to",
})


def smalltalk(message: str) -> str | None:
    """"greeting", "thanks" or None (a real question, or anything else)."""
    tokens = text.words(message)
    if not tokens or len(tokens) > 12:
        return None
    known = GREETING_WORDS | THANKS_WORDS | FILLER_WORDS
    if any(token not in known for token in tokens):
        return None
    if any(token in THANKS_WORDS for token in tokens):
        return "thanks"
    if any(token in GREETING_WORDS for token in tokens) or tokens[:2] == ["good", "day"]:
        return "greeting"
    return None


class KnowledgeBaseResponder:
    """The default Responder: the best knowledge-base article, with a calibrated confidence."""

    def __init__(self, find: Callable[[str, int], list[Match]] = search) -> None:
        self._find = find

    def respond(self, question: str, history: Sequence[Turn]) -> Answer:
        kind = smalltalk(question)
        if kind is not None:
            reply = THANKS_REPLY if kind == "thanks" else GREETING_REPLY
            return Answer(text=reply, confidence=1.0, topic=SMALLTALK_TOPIC)
        matches = self._find(question, 1)
        if not matches:
            return Answer(text=NO_ANSWER, confidence=0.0)
        best = matches[0]
        return Answer(text=best.answer, confidence=best.confidence, topic=best.topic)
