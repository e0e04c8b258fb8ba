"""Turn "answer the customer" into what actually goes out: the AI's answer, or a handoff
(customer message, private note, unassign). The rules are pure (engine/handoff.py); this
module gathers their inputs: transcript, office hours, settings, the responder's answer.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from opencx_bridge.ai import Answer, Responder, ResponderError, Turn
from opencx_bridge.ai.office_hours import OfficeHours, parse_holidays, parse_schedule
from opencx_bridge.ai.sentiment import overall
from opencx_bridge.ai.summary import summarise
from opencx_bridge.engine.rules import handoff
from opencx_bridge.engine.rules.attachments import split_question
from opencx_bridge.extensions import db
from opencx_bridge.store import integration, sessions, settings
from opencx_bridge.store.models import ChatSession, Message
from opencx_bridge.store.setting_specs import group_map

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Plan:
    """An answer to send, or a handoff (reason set) with its customer-visible message."""

    text: str
    reason: str | None = None
    answer: Answer | None = None
    turns: tuple[Turn, ...] = ()
    summary: str | None = None  # a handoff's note summary, asked before any write

    @property
    def is_handoff(self) -> bool:
        return self.reason is not None


def history(session: ChatSession | None, limit: int = 30) -> list[Turn]:
    if session is None or session.id is None:
        return []
    rows = db.session.scalars(select(Message).where(Message.session_id == session.id)
                              .order_by(Message.id.desc()).limit(limit))
    return [Turn(row.author, row.text) for row in reversed(list(rows))]


def office_hours_now(now: datetime) -> tuple[bool, str]:
    """(open now?, "Monday 09:00 (Europe/Berlin)") from the settings; always open when no
    schedule is set."""
    schedule_text = settings.get("office_hours")
    if not schedule_text:
        return True, ""
    hours = OfficeHours(parse_schedule(schedule_text), settings.get("office_hours_timezone"),
                        parse_holidays(settings.get("office_hours_holidays")))
    moment = now.replace(tzinfo=UTC)
    return hours.is_open(moment), hours.describe_next_opening(moment)


def plan(question: str, session: ChatSession | None, responder: Responder,
         now: datetime) -> Plan:
    turns = _before(tuple(history(session)), question)
    office_open, next_opening = office_hours_now(now)
    rules = handoff.HandoffRules(
        confidence_threshold=settings.get("handoff_confidence_threshold"),
        autopilot_topics=settings.get("autopilot_topics"),
        humans_during_office_hours=settings.get("office_hours_mode") == "ai_outside_hours_only",
    )
    words, images = split_question(question)
    readable = images if getattr(responder, "reads_images", False) else ()
    conversation = handoff.Conversation(
        question=words,
        earlier_customer_texts=handoff.customer_texts((t.author, t.text) for t in turns),
        new_session=session is None or not any(t.author == "ai" for t in turns),
        office_open=office_open,
        images=readable,
    )
    reason = handoff.reason_before_answering(conversation, rules)
    answer = None
    if reason is None:
        answer, error = _ask(responder, words, turns, readable)
        reason = handoff.reason_after_answering(answer, error, rules)
    all_turns = (*turns, Turn("customer", question))
    if reason is None:
        return Plan(text=answer.text, answer=answer, turns=all_turns)
    # Ask the model for the note's summary only when it just answered: if it is down, the
    # extractive summary is there at once instead of after another timeout.
    return Plan(text=handoff_text(now, (office_open, next_opening)), reason=reason,
                answer=answer, turns=all_turns,
                summary=summary_of(list(all_turns), responder if answer is not None else None))


def _before(turns: tuple[Turn, ...], question: str) -> tuple[Turn, ...]:
    """The transcript before the question. A question answered late (the conversation came
    back to the AI) is in the transcript already: it is not "asked again". The question is
    the waiting messages joined by newlines, each as the transcript has it."""
    rest = question
    while rest and turns and turns[-1].author == "customer" and turns[-1].text:
        said = turns[-1].text
        if rest != said and not rest.endswith("\n" + said):
            break
        rest, turns = rest[: -len(said)].rstrip("\n"), turns[:-1]
    return turns


def handoff_text(now: datetime, hours: tuple[bool, str] | None = None) -> str:
    """The customer-visible handoff message; outside office hours it names the opening.
    `hours`: office_hours_now(now), when the caller has it already."""
    office_open, next_opening = hours or office_hours_now(now)
    return handoff.customer_message(office_open, settings.get("handoff_message"),
                                    settings.get("handoff_message_offline"), next_opening)


def _ask(responder: Responder, question: str, turns,
         images: tuple[str, ...] = ()) -> tuple[Answer | None, str | None]:
    """The responder's answer, or why there is none. Images go only to one that reads them."""
    try:
        if images:
            return responder.respond(question, list(turns), images=images), None
        return responder.respond(question, list(turns)), None
    except ResponderError as exc:
        message = str(exc)
        return None, message if message.startswith("AI unavailable") else \
            f"AI unavailable: {message}"
    except Exception as exc:  # noqa: BLE001 - a broken responder must not silence the bridge
        log.exception("responder crashed")
        return None, f"AI unavailable: {type(exc).__name__}"


def note_text(title: str, reason: str | None, turns, session: ChatSession,
              summary: str | None = None, group: str | None = None) -> str:
    """The private note: summary (the extractive one unless given), sentiment, reason,
    contact and the dashboard link. No model call here: notes are written in a transaction."""
    customer = [t.text for t in turns if t.author == "customer"]
    return handoff.private_note(
        title=title, reason=reason, summary=summary or summarise(list(turns)),
        sentiment=overall(customer), contact=_contact(session),
        session_url=f"{integration.public_base_url()}/sessions/{session.id}", group=group,
    )


def handoff_group(topic: str | None) -> str | None:
    return handoff.handoff_group(topic, group_map(settings.get("topic_groups")),
                                 settings.get("handoff_group_id"))


def summary_of(turns: list[Turn], responder: Responder | None) -> str:
    """The model's summary when it has one to give, else the extractive one."""
    model_summary = getattr(responder, "summarise", None)
    if model_summary is not None:
        try:
            return model_summary(turns)
        except ResponderError as exc:
            log.info("model summary failed, using the extractive one: %s", exc)
    return summarise(turns)


def _contact(session: ChatSession) -> str:
    contact = sessions.contact_of(session)
    if contact is None:
        return f"Freshchat user {session.freshchat_user_id or 'unknown'}"
    parts = [contact.name or "", f"<{contact.email}>" if contact.email else "(no email)"]
    if contact.phone:
        parts.append(contact.phone)
    return " ".join(p for p in parts if p)


def auto_resolve_deadline(now: datetime) -> datetime | None:
    minutes = float(settings.get("auto_resolve_after_minutes"))
    return now + timedelta(minutes=minutes) if minutes > 0 else None

