"""The handoff rules, pure: conversation in, reason out."""

import pytest

from opencx_bridge.ai import Answer
from opencx_bridge.ai.sentiment import Sentiment
from opencx_bridge.engine.rules.handoff import (
    Conversation,
    HandoffRules,
    customer_message,
    private_note,
    reason_after_answering,
    reason_before_answering,
)

RULES = HandoffRules(confidence_threshold=0.5)


def before(question, earlier=(), rules=RULES, **kw):
    return reason_before_answering(Conversation(question, tuple(earlier), **kw), rules)


def test_an_ordinary_question_is_for_the_ai():
    assert before("how long does shipping take?") is None


def test_asking_for_a_person_hands_off():
    assert before("I want to talk to a human agent now!") == "the customer asked for a human"


def test_frustration_across_messages_hands_off():
    reason = before("This is the worst service ever, I am furious!",
                    ["Your useless bot is terrible and wasted my time."])
    assert reason.startswith("the customer is frustrated (sentiment -")


def test_the_same_question_twice_hands_off():
    assert before("Where is my order??", ["where is my order?"]) == \
        "the customer asked the same question again"


def test_office_hours_mode_sends_new_chats_to_humans_only_while_open():
    rules = HandoffRules(humans_during_office_hours=True)
    assert before("hi", rules=rules, new_session=True, office_open=True).startswith("office hours")
    assert before("hi", rules=rules, new_session=True, office_open=False) is None
    assert before("hi", rules=rules, new_session=False, office_open=True) is None


@pytest.mark.parametrize("answer, error, expected", [
    (None, "AI unavailable: timed out", "AI unavailable: timed out"),
    (Answer("x", 0.9, wants_human=True), None, "the AI chose to hand over"),
    (Answer("x", 0.49), None, "low confidence (0.49 < 0.50): no reliable answer"),
    (Answer("x", 0.5), None, None),
])
def test_after_answering(answer, error, expected):
    assert reason_after_answering(answer, error, RULES) == expected


def test_a_topic_outside_the_autopilot_list_hands_off():
    rules = HandoffRules(autopilot_topics="shipping, account")
    assert "not in autopilot_topics" in reason_after_answering(Answer("x", 0.9, "billing"),
                                                               None, rules)
    assert reason_after_answering(Answer("x", 0.9, "shipping"), None, rules) is None


def test_the_offline_message_names_the_opening():
    text = customer_message(False, "online", "back {next_opening}.", "Monday 09:00 (UTC)")
    assert text == "back Monday 09:00 (UTC)."
    assert customer_message(True, "online", "offline", "x") == "online"
    assert customer_message(False, "on", "back {next_opening}", "") == "back as soon as possible"


def test_the_private_note_carries_everything_a_rep_needs():
    note = private_note(title="AI handoff", reason="the customer asked for a human",
                        summary="Customer asked: refund", sentiment=Sentiment("negative", -0.6),
                        contact="Sam <sam@example.com>", session_url="http://bridge/sessions/4")
    assert note.splitlines() == [
        "AI handoff", "Reason: the customer asked for a human", "Summary: Customer asked: refund",
        "Sentiment: negative (-0.60)", "Contact: Sam <sam@example.com>",
        "Session: http://bridge/sessions/4",
    ]


@pytest.mark.parametrize("question", ["", "  \n "])
def test_a_message_without_text_goes_to_a_human_never_to_the_ai(question):
    conversation = Conversation(question=question, earlier_customer_texts=())
    assert reason_before_answering(conversation, RULES) == (
        "the message has no text the AI can read (an image or a file?)")
