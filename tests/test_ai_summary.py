"""The extractive conversation summary for handoff and resolution notes."""

from __future__ import annotations

import pytest

from opencx_bridge.ai.responder import Turn
from opencx_bridge.ai.summary import summarise

QUESTION = ("How long does shipping to Canada take? I ordered on Monday. It's a gift for my "
            "mum and I need it before Friday, so please hurry.")
ANSWER = ("Shipping to Canada takes 5-7 business days. You can track your parcel from the link "
          "in your confirmation email. Express shipping is available at checkout.")
ANGRY = "This is ridiculous, I want to talk to a human agent now!"
CONVERSATION = [Turn("customer", "hi"), Turn("customer", QUESTION), Turn("ai", ANSWER),
                Turn("customer", ANGRY)]


def c(text: str) -> Turn:
    return Turn("customer", text)


def ai(text: str) -> Turn:
    return Turn("ai", text)


def test_full_summary():
    assert summarise(CONVERSATION) == (
        "Customer asked: How long does shipping to Canada take? I ordered on Monday. It's a "
        "gift for my mum and I need it before Friday, so please hurry.\n"
        "AI answered: Shipping to Canada takes 5-7 business days. You can track your parcel "
        "from the link in your confirmation email.\n"
        "Customer then said: This is ridiculous, I want to talk to a human agent now!")


@pytest.mark.parametrize(("turns", "expected"), [
    ([], "No messages yet."),
    ([Turn("agent", "Hello from a person")], "No messages yet."),
    ([c("   ")], "No messages yet."),
    ([c("hi")], "Customer asked: hi"),                       # nothing better to quote
    ([c("hello"), c("Where is my order?")], "Customer asked: Where is my order?"),
    ([c("Where is my order?"), c("where is my order??")], "Customer asked: Where is my order?"),
    ([c("Where is my order?"), c("thanks")], "Customer asked: Where is my order?"),
    ([ai("Hi! How can I help?")], "AI answered: Hi! How can I help?"),
    ([c("Where is my order?"), ai("It ships today. Tracking follows. Anything else?")],
     "Customer asked: Where is my order?\nAI answered: It ships today. Tracking follows."),
    ([c("Where is my order?"), ai("First."), c("And my refund?"), ai("Second. More.")],
     "Customer asked: Where is my order?\nCustomer then said: And my refund?\n"
     "AI answered: Second. More."),
    ([c("  lots   of\n spaces  ")], "Customer asked: lots of spaces"),
])
def test_what_is_quoted(turns, expected):
    assert summarise(turns) == expected


def test_agent_turns_are_not_quoted():
    turns = [c("Where is my order?"), Turn("agent", "I'll check"), ai("It ships today.")]
    assert "check" not in summarise(turns)


@pytest.mark.parametrize("max_chars", [600, 300, 200, 120, 80, 40, 17, 16, 10, 2, 1])
def test_never_longer_than_max_chars(max_chars):
    summary = summarise(CONVERSATION, max_chars)
    assert len(summary) <= max_chars
    assert summary


def test_cut_at_sentence_boundaries_with_an_ellipsis():
    summary = summarise(CONVERSATION, 200)
    assert summary == (
        "Customer asked: How long does shipping to Canada take? …\n"
        "AI answered: Shipping to Canada takes 5-7 business days. …\n"
        "Customer then said: This is ridiculous, I want to talk to a human…")


def test_a_cut_inside_a_sentence_stops_at_a_word():
    summary = summarise([c("word " * 200)], 60)
    assert summary == "Customer asked: " + "word " * 7 + "word…"
    assert len(summary) <= 60


def test_short_lines_leave_room_for_long_ones():
    long = "The parcel arrived damaged. " * 20
    summary = summarise([c("Refund?"), ai(long)], 200)
    assert summary.startswith("Customer asked: Refund?\nAI answered: The parcel arrived damaged.")
    assert len(summary) <= 200


def test_empty_summary_is_bounded_too():
    assert summarise([], 8) == "No mess…"


def test_max_chars_must_be_positive():
    with pytest.raises(ValueError, match="at least 1"):
        summarise(CONVERSATION, 0)
