"""Every runtime setting: its default, its parser (validation with a clear error), its help.

The registry is the single source of truth: `flask settings show/set` and the settings
pages read it, and the README documents every key (a test checks).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from opencx_bridge.ai.office_hours import ScheduleError, parse_holidays, parse_schedule, zone
from opencx_bridge.ai.openai_compat import completions_url
from opencx_bridge.freshchat.links import NotAConversationAddress, app_address


class SettingError(ValueError):
    pass


@dataclass(frozen=True)
class Spec:
    key: str
    default: object
    parse: Callable[[str], object]
    help: str
    group: str = "general"
    secret: bool = False  # stored encrypted, never shown back
    choices: tuple[str, ...] = ()
    multiline: bool = False


def boolean(text: str) -> bool:
    value = str(text).strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise SettingError("expected true or false")


def number_in(low: float, high: float, low_inclusive: bool = False) -> Callable[[str], float]:
    """A parser for a finite number between low and high (high included)."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except (TypeError, ValueError) as exc:
            raise SettingError(f"expected a number, not {text!r}") from exc
        above = value >= low if low_inclusive else value > low
        if not math.isfinite(value) or not above or value > high:
            word = "at least" if low_inclusive else "above"
            raise SettingError(f"expected a number {word} {low:g} and at most {high:g}")
        return value

    return parse


def whole_number_in(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(str(text).strip())
        except ValueError as exc:
            raise SettingError(f"expected a whole number, not {text!r}") from exc
        if not low <= value <= high:
            raise SettingError(f"expected a whole number from {low} to {high}")
        return value

    return parse


def one_of(*choices: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        value = str(text).strip().lower()
        if value not in choices:
            raise SettingError(f"expected one of {', '.join(choices)}, not {text!r}")
        return value

    return parse


def text(max_length: int = 2000, required: bool = False) -> Callable[[str], str]:
    def parse(value: str) -> str:
        value = str(value).strip()
        if required and not value:
            raise SettingError("must not be empty")
        if len(value) > max_length:
            raise SettingError(f"at most {max_length} characters")
        return value

    return parse


def checked_by(check: Callable[[str], object]) -> Callable[[str], str]:
    """A text setting that another module's parser validates; its error becomes ours."""

    def parse(value: str) -> str:
        value = str(value).strip()
        if value:
            try:
                check(value)
            except (ScheduleError, ValueError) as exc:
                raise SettingError(str(exc)) from exc
        return value

    return parse


schedule = checked_by(parse_schedule)
holidays = checked_by(parse_holidays)
timezone = checked_by(zone)
http_url = checked_by(completions_url)  # the responder builds its URL the same way


def conversation_address(value: str) -> str:
    """A pasted Freshchat address, kept as the https://HOST/a/NUMBER its links start with."""
    if not str(value).strip():
        return ""
    try:
        return app_address(value)
    except NotAConversationAddress as exc:
        raise SettingError(str(exc)) from exc


def topics(value: str) -> str:
    return ", ".join(t.strip().lower() for t in str(value).split(",") if t.strip())


def topic_groups(value: str) -> str:
    """One Freshchat group per topic: "Billing = 123, shipping=456" is stored as
    "billing=123, shipping=456"."""
    return ", ".join(f"{topic}={group}" for topic, group in group_map(value).items())


def group_map(value: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for pair in (p.strip() for p in str(value).split(",")):
        if not pair:
            continue
        topic, equals, group = (bit.strip() for bit in pair.partition("="))
        if not equals or not topic or not group:
            raise SettingError(f"{pair!r} is not topic=GROUP_ID (e.g. billing=1a2b3c)")
        if len(group) > 255:
            raise SettingError(f"the group id for {topic!r} is longer than 255 characters")
        found[topic.lower()] = group
    return found


HANDOFF_TEXT = ("I'm passing you to a member of our team; they will reply here as soon as "
                "they can.")
OFFLINE_TEXT = ("Our team is offline right now. I've passed your message on, and they will "
                "reply here when they are back: {next_opening}.")

SPECS: dict[str, Spec] = {spec.key: spec for spec in (
    Spec("dedup_window_hours", 24.0, number_in(0, 24 * 30),
         "hours a webhook's dedup key is remembered; redeliveries inside it are dropped",
         "delivery"),
    Spec("reopen_returns_to_ai", True, boolean,
         "a conversation reopened in Freshchat goes back to the AI (else it stays with humans)",
         "routing"),
    Spec("reply_debounce_seconds", 0.0, number_in(0, 60, low_inclusive=True),
         "the AI waits this long after a customer's message and answers the messages that "
         "came meanwhile together, once (0 = answer each at once; 2-3 s suits customers who "
         "write in short bursts)", "handoff"),
    Spec("reopen_window_hours", 72.0, number_in(0, 24 * 365),
         "a conversation the AI resolved counts as AI-resolved on the overview only if the "
         "customer did not reopen it within this many hours", "resolution"),
    Spec("stranded_after_minutes", 10.0, number_in(0, 24 * 60, low_inclusive=True),
         "a customer whose message waited this long with nobody answering is shown as "
         "stranded, and the team gets a private note (0 = never)", "routing"),
    Spec("takeover_assigns_rep", True, boolean,
         "a rep who writes in a conversation assigned to the AI gets it assigned in Freshchat "
         "(so assigning it back to the AI is a change Freshchat reports)", "routing"),
    Spec("freshchat_link_address", "", conversation_address,
         "the address of any conversation open in Freshchat, pasted from your browser (e.g. "
         "https://web.freshchat.com/a/153370844780746/open/conversation/374169896285298): "
         "'Open in Freshchat' links then use conversation numbers, as Freshchat's own links "
         "do (empty = links by conversation id)", "delivery"),
    Spec("freshchat_rate_limit_per_minute", 60, whole_number_in(2, 100_000),
         "your Freshchat plan's API limit; every call, reads included, stays under it",
         "delivery"),
    Spec("delivery_retry_horizon_hours", 24.0, number_in(0, 24 * 30),
         "how long a failing Freshchat call is retried before it is given up (dead-lettered)",
         "delivery"),
    Spec("handoff_confidence_threshold", 0.6, number_in(0, 1, low_inclusive=True),
         "answers with a lower confidence (0..1) go to a human instead", "handoff"),
    Spec("autopilot_topics", "", topics,
         "comma list of topics the AI may answer (empty = every topic); others go to a human",
         "handoff"),
    Spec("handoff_group_id", "", text(255),
         "the Freshchat group a handed-off conversation is assigned to (empty = back to the "
         "unassigned queue)", "handoff"),
    Spec("topic_groups", "", topic_groups,
         "groups by topic, e.g. 'billing=GROUP_ID, shipping=GROUP_ID': a handoff on that topic "
         "goes to that group (else handoff_group_id)", "handoff"),
    Spec("handoff_message", HANDOFF_TEXT, text(1000, required=True),
         "what the customer sees when the AI hands over during office hours", "handoff",
         multiline=True),
    Spec("handoff_message_offline", OFFLINE_TEXT, text(1000, required=True),
         "what the customer sees on a handoff outside office hours; {next_opening} becomes "
         "e.g. 'Monday 09:00 (Europe/Berlin)'", "handoff", multiline=True),
    Spec("office_hours", "", schedule,
         "weekly schedule like 'mon-fri 09:00-17:00; sat 10:00-14:00' (empty = always open)",
         "office_hours"),
    Spec("office_hours_timezone", "UTC", timezone, "IANA time zone of the schedule",
         "office_hours"),
    Spec("office_hours_holidays", "", holidays,
         "closed dates, e.g. '2026-12-25, 2026-12-26'", "office_hours"),
    Spec("office_hours_mode", "ai_always", one_of("ai_always", "ai_outside_hours_only"),
         "ai_always: the AI answers at any time; ai_outside_hours_only: during office hours "
         "new conversations go straight to humans", "office_hours",
         choices=("ai_always", "ai_outside_hours_only")),
    Spec("auto_resolve_after_minutes", 30.0, number_in(0, 60 * 24 * 30, low_inclusive=True),
         "resolve a conversation after the AI's answer when the customer stays quiet this "
         "long (decimals allowed; 0 = never)", "resolution"),
    Spec("responder", "knowledge_base", one_of("knowledge_base", "openai_compatible"),
         "who answers: the built-in knowledge base, or an OpenAI-compatible model",
         "ai", choices=("knowledge_base", "openai_compatible")),
    Spec("openai_base_url", "", http_url,
         "base URL of a /v1/chat/completions server (OpenAI, Azure OpenAI, Ollama, vLLM, "
         "llama.cpp)", "ai"),
    Spec("openai_model", "", text(200), "model name, e.g. gpt-4o-mini or llama3.1", "ai"),
    Spec("openai_api_key", "", text(500), "API key for the model server (stored encrypted)",
         "ai", secret=True),
    Spec("embeddings_model", "", text(200),
         "an embeddings model on the server of openai_base_url (e.g. text-embedding-3-small, "
         "nomic-embed-text): the knowledge base then also matches questions by meaning, not "
         "only by words, whoever answers (empty = off)", "ai"),
    Spec("openai_reads_images", False, boolean,
         "the model reads images (a vision model such as gpt-4o-mini or llava): a screenshot "
         "a customer sends is passed to it with the question (off: a message with only an "
         "image or a file goes to a human)", "ai"),
    Spec("openai_temperature", 0.2, number_in(0, 2, low_inclusive=True),
         "sampling temperature for the model (0..2)", "ai"),
)}
