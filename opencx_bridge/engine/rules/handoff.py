"""When the AI steps aside, and what it says when it does. Pure: text and numbers in,
a reason (or None) and message texts out.

The checks run in two rounds. Before the responder is asked: office hours (in the mode
where humans take new chats during the day), an explicit request for a person,
frustration, the same question again. After it answered: an AI error, the model's own
wish to hand over, a topic outside the autopilot list, a confidence below the threshold.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from opencx_bridge.ai import Answer
from opencx_bridge.ai.rules import repeated_question, topic_allowed, wants_human
from opencx_bridge.ai.sentiment import Sentiment, is_frustrated, overall


@dataclass(frozen=True)
class HandoffRules:
    confidence_threshold: float = 0.6
    autopilot_topics: str = ""
    humans_during_office_hours: bool = False  # office_hours_mode ai_outside_hours_only


@dataclass(frozen=True)
class Conversation:
    """What the rules read about the conversation at the moment of the question."""

    question: str
    earlier_customer_texts: tuple[str, ...]  # before the question, oldest first
    new_session: bool = False
    office_open: bool = True
    images: tuple[str, ...] = ()  # sent with the question, for a responder that reads them


def reason_before_answering(conversation: Conversation, rules: HandoffRules) -> str | None:
    if rules.humans_during_office_hours and conversation.new_session and conversation.office_open:
        return "office hours: during office hours new conversations go to the team"
    if not conversation.question.strip() and not conversation.images:  # never answer ""
        return "the message has no text the AI can read (an image or a file?)"
    if wants_human(conversation.question):
        return "the customer asked for a human"
    texts = [*conversation.earlier_customer_texts, conversation.question]
    if is_frustrated(texts):
        return f"the customer is frustrated (sentiment {overall(texts).score:+.2f})"
    if repeated_question(conversation.question, conversation.earlier_customer_texts):
        return "the customer asked the same question again"
    return None


def reason_after_answering(answer: Answer | None, error: str | None,
                           rules: HandoffRules) -> str | None:
    if answer is None:
        return error or "AI unavailable: no answer"
    if answer.wants_human:
        return "the AI chose to hand over"
    if not topic_allowed(answer.topic, rules.autopilot_topics):
        topic = answer.topic or "unknown"
        return f"topic '{topic}' is not in autopilot_topics ({rules.autopilot_topics})"
    if answer.confidence < rules.confidence_threshold:
        return (f"low confidence ({answer.confidence:.2f} < "
                f"{rules.confidence_threshold:.2f}): no reliable answer")
    return None


def customer_message(office_open: bool, online_text: str, offline_text: str,
                     next_opening: str) -> str:
    """The customer-visible handoff text; outside hours it names the opening time."""
    if office_open:
        return online_text
    when = next_opening or "as soon as possible"
    return offline_text.replace("{next_opening}", when)


def private_note(*, title: str, reason: str | None, summary: str, sentiment: Sentiment,
                 contact: str, session_url: str | None, group: str | None = None) -> str:
    """The internal note for the rep: what happened, how the customer feels, where to look."""
    lines = [title]
    if reason:
        lines.append(f"Reason: {reason}")
    if group:
        lines.append(f"Assigned to group: {group}")
    lines += [
        f"Summary: {summary}",
        f"Sentiment: {sentiment.label} ({sentiment.score:+.2f})",
        f"Contact: {contact}",
    ]
    if session_url:
        lines.append(f"Session: {session_url}")
    return "\n".join(lines)


def handoff_group(topic: str | None, by_topic: dict[str, str], default: str) -> str | None:
    """The group a handoff goes to: the topic's, else the default, else none (the queue)."""
    return by_topic.get((topic or "").lower()) or default or None


def customer_texts(turns: Sequence[tuple[str, str]]) -> tuple[str, ...]:
    """The customer's lines from (author, text) turns, oldest first."""
    return tuple(text for author, text in turns if author == "customer")
