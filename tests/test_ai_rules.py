"""Pure handoff signals: asking for a person, asking again, topics on autopilot."""

from __future__ import annotations

import pytest

from opencx_bridge.ai.rules import repeated_question, topic_allowed, wants_human

ASKS_FOR_A_PERSON = [
    "I want to talk to a human agent now!",
    "human",
    "agent",
    "Agent!",
    "representative please",
    "Can I speak to a real person?",
    "can I talk to someone",
    "speak to somebody",
    "call me",
    "Please call me back on 0123 456",
    "Give me a call please",
    "live agent",
    "operator",
    "customer service rep",
    "HUMAN AGENT NOW!!!",
    "a real persn",
    "i want a humna",
    "speak to an agnet",
    "human please",
    "REAL PERSON PLEASE",
    "Connect me to a live agent",
    "transfer me to a human please",
    "I need to speak with a representative",
    "Get me a manager",
    "I'd like to chat with an actual human being",
    "Is there someone I can talk to?",
    "Is anyone there?",
    "is a real person available?",
    "Let me talk to customer service",
    "Can you put me through to an operator?",
    "Please escalate this to your supervisor",
    "No, that didn't help. I want a human.",
    "talk to human",
    "I need somebody from customer support",
    "This bot is useless, get me a REAL person!!!",
    "Why don't you just let me talk to a person",
    "can i chat w/ a live rep pls",
    "I would like to speak to someone from your team",
    "My parcel is late. Agent!",
]

DOES_NOT = [
    "the human resources page is broken",
    "someone stole my package",
    "my agent code is 123",
    "What is the agent fee?",
    "human rights",
    "Human error on your side, the invoice is wrong",
    "Someone's parcel was delivered to me",
    "I already talked to someone yesterday",
    "Your agent was very rude to me",
    "My travel agent booked the wrong dates",
    "How do I become a sales agent?",
    "Are you a human?",
    "I don't want to talk to a human, just tell me the price",
    "Please do not transfer me, I am fine with the bot",
    "Thanks, no need to call me",
    "Call me Ishmael",
    "It looks like someone opened the box",
    "I want to know whether a person can pick it up",
    "Can someone help me with my order?",  # how conversations open: the AI tries first
    "Is anyone else having this problem?",
    "You people are slow",
    "I gave my parcel to the person at the door",
    "Where is my order?",
    "I need a refund",
    "Can I get a receipt for my order",
    "",
]


@pytest.mark.parametrize("text", ASKS_FOR_A_PERSON)
def test_asks_for_a_person(text):
    assert wants_human(text) is True


@pytest.mark.parametrize("text", DOES_NOT)
def test_does_not_ask_for_a_person(text):
    assert wants_human(text) is False


@pytest.mark.parametrize(("question", "earlier", "expected"), [
    ("where is my order?", ["Where is my order??"], True),
    ("Where is my order", ["hi", "WHERE IS MY ORDER"], True),
    ("where are my orders", ["where is my order"], True),
    ("How long does shipping to Canada take?",
     ["how long does shipping to canada take"], True),
    ("where is my order", ["where is my refund"], False),
    ("how do I reset my password", ["how do I change my password"], False),
    ("where is my order", [], False),
    ("hi", ["hi"], False),                       # small talk is not a question
    ("ok", ["ok"], False),
    ("yes please", ["yes please"], False),
    ("", [""], False),
])
def test_repeated_question(question, earlier, expected):
    assert repeated_question(question, earlier) is expected


def test_repeated_question_threshold():
    question, earlier = "where is my order", ["where is my order now"]   # 2 of 3 words
    assert repeated_question(question, earlier) is False
    assert repeated_question(question, earlier, threshold=0.6) is True


@pytest.mark.parametrize(("topic", "autopilot_topics", "expected"), [
    ("billing", "", True),
    (None, "", True),
    (None, "  ,  ", True),
    ("shipping", "shipping, returns", True),
    ("Shipping", " SHIPPING ,returns", True),
    ("order status", "Order  Status, returns", True),
    ("order-status", "order status", True),
    ("billing", "shipping, returns", False),
    (None, "shipping", False),
    ("", "shipping", False),
    ("ship", "shipping", False),
])
def test_topic_allowed(topic, autopilot_topics, expected):
    assert topic_allowed(topic, autopilot_topics) is expected
