"""Each outcome the overview counts, as one SQL condition on a session and one line that
says how it is counted. The report counts with these conditions and the inbox filters by
the same ones, so a number and the sessions behind its link cannot disagree."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, not_, or_, true
from sqlalchemy.sql.elements import ColumnElement

from opencx_bridge.engine.rules.reasons import LABELS, OTHER, TAKEN_OVER
from opencx_bridge.store.models import ChatSession as S


@dataclass(frozen=True)
class Figure:
    name: str
    label: str
    how: str  # one line, for people: how the number is counted


FIGURES = (
    Figure("conversations", "Conversations",
           "every conversation that started in the period (its first event reached the bridge)"),
    Figure("ai_resolved", "AI-resolved",
           "resolved after an AI answer, with no rep message and no handoff before the "
           "resolution, and not reopened within {window:g} h (resolutions younger than that "
           "may still reopen)"),
    Figure("handed_off", "Handed off",
           "the AI passed the conversation to the team (a handoff rule, an AI error, or a "
           "person from the dashboard); counted once, by its first reason"),
    Figure("taken_over", "Taken over by a rep",
           "a rep replied or took the assignment while the AI was handling it"),
    Figure("reopened_after_ai", "Reopened after an AI resolution",
           "resolved as above, then reopened (in Freshchat or by a customer message) within "
           "{window:g} h of the resolution"),
)
BY_NAME = {figure.name: figure for figure in FIGURES}


def how(name: str, window_hours: float) -> str:
    return BY_NAME[name].how.format(window=window_hours)


def condition(name: str, window_hours: float) -> ColumnElement[bool]:
    """The sessions a figure counts (besides starting in the period)."""
    return _conditions(window_hours)[name]


def handoff_of_kind(kind: str) -> ColumnElement[bool]:
    same = S.handoff_kind == kind
    return and_(S.handed_off_at.is_not(None),
                or_(same, S.handoff_kind.is_(None)) if kind == OTHER else same)


def filter_for(outcome: str, window_hours: float) -> tuple[ColumnElement[bool], str]:
    """An inbox filter: a figure's name, or handoff:KIND; with its label for people.
    ValueError for anything else."""
    if outcome.startswith("handoff:"):
        kind = outcome.removeprefix("handoff:")
        if kind not in LABELS:
            raise ValueError(f"unknown handoff reason {kind!r}")
        return (and_(condition("handed_off", window_hours), handoff_of_kind(kind)),
                f"handed off: {LABELS[kind]}")
    if outcome not in BY_NAME:
        raise ValueError(f"unknown outcome {outcome!r}; use one of {', '.join(BY_NAME)}")
    return condition(outcome, window_hours), BY_NAME[outcome].label


def _conditions(window: float) -> dict[str, ColumnElement[bool]]:
    resolved_by_ai = and_(
        S.first_resolved_at.is_not(None),
        S.first_ai_reply_at.is_not(None), S.first_ai_reply_at <= S.first_resolved_at,
        or_(S.first_human_message_at.is_(None), S.first_human_message_at > S.first_resolved_at),
        or_(S.handed_off_at.is_(None), S.handed_off_at > S.first_resolved_at),
    )
    reopened = and_(S.reopened_after_hours.is_not(None), S.reopened_after_hours <= window)
    return {
        "conversations": true(),
        "ai_resolved": and_(resolved_by_ai, not_(reopened)),
        "handed_off": and_(S.handed_off_at.is_not(None),
                           or_(S.handoff_kind.is_(None), S.handoff_kind != TAKEN_OVER)),
        "taken_over": handoff_of_kind(TAKEN_OVER),
        "reopened_after_ai": and_(resolved_by_ai, reopened),
    }
