"""`kb eval`: how the AI would do on a team's own questions, before it talks to customers.

The input is a CSV with the columns `question,expected`: `expected` is the exact answer text
of the article that should answer, or empty when the AI should hand the question off. Each
question goes to the configured responder once (any responder: `respond` is passed in), and
the figures follow for any threshold from the same answers:

- top-1: of the questions that have an expected answer, the share whose best answer is it,
  whatever the confidence;
- answered: of the same questions, the share answered (confidence at or above the threshold,
  and the responder did not ask for a human);
- right when answered: of every question answered, the share answered with the expected
  text (an answer to a question that should have been handed off is wrong);
- handed off when it should: of the questions with an empty `expected`, the share handed off.

Texts are compared with their whitespace collapsed. A model writes its own words, so with a
model only a reply that repeats the article word for word counts as right. A share with
nothing to count (no question answered, say) prints as 0%. A question the responder failed
on counts as handed off; `failures` says how many and why. Only the responder is tested: the
engine's other handoff rules (a request for a human, frustration, topics, office hours) are
not applied.

Pure: no Flask, no database; the caller passes the responder's `respond`.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from opencx_bridge.ai.responder import Answer, ResponderError

log = logging.getLogger(__name__)
STEPS = tuple(round(step / 10, 1) for step in range(10))  # 0.0, 0.1, ... 0.9
MAX_QUESTIONS = 10_000


class EvalFileError(ValueError):
    """The CSV cannot be used; the message says why and how to fix it."""


@dataclass(frozen=True)
class Case:
    question: str
    expected: str  # "" = the AI should hand off


@dataclass(frozen=True)
class Result:
    question: str
    expected: str
    answer: str
    confidence: float
    wants_human: bool = False
    error: str = ""  # the responder failed: counted as a handoff

    def answered(self, threshold: float) -> bool:
        return not (self.error or self.wants_human) and self.confidence >= threshold

    def right(self) -> bool:
        """Whether the best answer is the expected one, whatever the confidence."""
        return bool(self.expected) and _same(self.answer, self.expected)

    def correct(self, threshold: float) -> bool:
        if not self.expected:
            return not self.answered(threshold)
        return self.answered(threshold) and self.right()

    def as_json(self, threshold: float) -> dict:
        return {"question": self.question, "expected": self.expected, "answer": self.answer,
                "confidence": self.confidence, "answered": self.answered(threshold),
                "correct": self.correct(threshold)}


@dataclass(frozen=True)
class Figures:
    questions: int
    threshold: float
    top1: float | None
    answered: float | None
    right_when_answered: float | None
    handed_off_when_it_should: float | None


def read_cases(content: str) -> tuple[list[Case], list[str]]:
    """The cases of a CSV text and the rows skipped (with why); EvalFileError if unusable."""
    reader = csv.reader(io.StringIO(content.lstrip("\ufeff")))
    try:
        header = [cell.strip().lower() for cell in next(reader, [])]
    except csv.Error as exc:
        raise EvalFileError(f"line 1 is not CSV ({exc})") from None
    if "question" not in header or "expected" not in header:
        found = ",".join(header) or "nothing"
        raise EvalFileError("the first line must name the columns question,expected "
                            f"(found: {found})")
    cases: list[Case] = []
    skipped: list[str] = []
    try:
        for row in reader:
            cells = dict(zip(header, row, strict=False))
            question = " ".join((cells.get("question") or "").split())
            if not question:
                if any(cell.strip() for cell in row):
                    skipped.append(f"line {reader.line_num}: no question")
                continue
            cases.append(Case(question, (cells.get("expected") or "").strip()))
    except csv.Error as exc:
        raise EvalFileError(f"line {reader.line_num} is not CSV ({exc})") from None
    if not cases:
        raise EvalFileError("no questions: add rows below the question,expected line")
    if len(cases) > MAX_QUESTIONS:
        raise EvalFileError(f"{len(cases)} questions: at most {MAX_QUESTIONS:,} in one test")
    return cases, skipped


def run(cases: Iterable[Case], respond: Callable[[str], Answer]) -> list[Result]:
    """Ask the responder each question once."""
    results = []
    for case in cases:
        try:
            answer = respond(case.question)
        except ResponderError as exc:
            results.append(Result(case.question, case.expected, "", 0.0, error=str(exc)))
            continue
        except Exception as exc:  # noqa: BLE001 - one question's failure must not end the test
            log.exception("kb eval: the responder failed on a question")
            results.append(Result(case.question, case.expected, "", 0.0,
                                  error=f"the responder failed ({type(exc).__name__})"))
            continue
        results.append(Result(case.question, case.expected, answer.text,
                              float(answer.confidence), answer.wants_human))
    return results


def figures(results: Sequence[Result], threshold: float) -> Figures:
    in_scope = [r for r in results if r.expected]
    out_of_scope = [r for r in results if not r.expected]
    answered = [r for r in results if r.answered(threshold)]
    return Figures(
        len(results), threshold,
        _share(r.right() for r in in_scope),
        _share(r.answered(threshold) for r in in_scope),
        _share(r.right() for r in answered),
        _share(not r.answered(threshold) for r in out_of_scope))


def step_line(f: Figures, chosen: bool = False) -> str:
    mark = "  <- threshold used" if chosen else ""
    return (f"threshold {f.threshold:.2f}: answered {percent(f.answered)}, right when answered "
            f"{percent(f.right_when_answered)}, handed off when it should "
            f"{percent(f.handed_off_when_it_should)}{mark}")


def summary_line(f: Figures) -> str:
    return (f"{f.questions} questions: top-1 {percent(f.top1)}, answered {percent(f.answered)}, "
            f"right when answered {percent(f.right_when_answered)}, "
            f"handed off when it should {percent(f.handed_off_when_it_should)}")


def percent(share: float | None) -> str:
    return f"{round((share or 0) * 100)}%"


def failures(results: Sequence[Result]) -> str | None:
    """"K of N questions failed: <first reason>", or None when none did."""
    failed = [r for r in results if r.error]
    if not failed:
        return None
    return (f"{len(failed)} of {len(results)} questions failed (counted as handed off): "
            f"{failed[0].error}")


def _share(flags: Iterable[bool]) -> float | None:
    values = list(flags)
    return sum(values) / len(values) if values else None


def _same(answer: str, expected: str) -> bool:
    return " ".join(answer.split()) == " ".join(expected.split())
