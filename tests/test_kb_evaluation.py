"""`kb eval`'s reading of the CSV and its figures (kb/evaluation.py), with a responder made
up for each test."""

import pytest

from opencx_bridge.ai.responder import Answer, ResponderError
from opencx_bridge.kb import evaluation
from opencx_bridge.kb.evaluation import Case, EvalFileError, Result


def test_the_csv_gives_cases_and_says_which_rows_it_skipped():
    cases, skipped = evaluation.read_cases(
        "\ufeffExpected,Question,notes\nShips in a day.,  how long   to ship? ,x\n"
        ",tell me a joke,\n\n only an answer ,,\n")
    assert cases == [Case("how long to ship?", "Ships in a day."), Case("tell me a joke", "")]
    assert skipped == ["line 5: no question"]


@pytest.mark.parametrize(("content", "message"), [
    ("", "the first line must name the columns question,expected (found: nothing)"),
    ("question,answer\nq,a\n", "the first line must name the columns question,expected "
                               "(found: question,answer)"),
    ("question,expected\n", "no questions: add rows below the question,expected line"),
])
def test_an_unusable_file_says_why(content, message):
    with pytest.raises(EvalFileError) as failure:
        evaluation.read_cases(content)
    assert str(failure.value) == message


def test_too_many_questions_are_refused():
    content = "question,expected\n" + "q,\n" * (evaluation.MAX_QUESTIONS + 1)
    with pytest.raises(EvalFileError, match="at most 10,000"):
        evaluation.read_cases(content)


CASES = [Case("shipping?", "Ships in a day."), Case("refund?", "Refunds in 5 days."),
         Case("joke?", ""), Case("weather?", ""), Case("human!", "Ships in a day.")]
ANSWERS = {"shipping?": Answer("Ships  in a day.", 0.9),  # spaces do not matter
           "refund?": Answer("Ships in a day.", 0.4),  # wrong article, unsure
           "joke?": Answer("Refunds in 5 days.", 0.7),  # should have handed off
           "weather?": Answer("Ships in a day.", 0.2),
           "human!": Answer("Ships in a day.", 1.0, wants_human=True)}


def results():
    return evaluation.run(CASES, lambda question: ANSWERS[question])


def test_the_figures_at_a_threshold():
    at_half = evaluation.figures(results(), 0.5)
    assert at_half == evaluation.Figures(5, 0.5, top1=2 / 3, answered=1 / 3,
                                         right_when_answered=1 / 2,
                                         handed_off_when_it_should=1 / 2)
    assert evaluation.summary_line(at_half) == (
        "5 questions: top-1 67%, answered 33%, right when answered 50%, "
        "handed off when it should 50%")
    at_0_8 = evaluation.figures(results(), 0.8)
    assert (at_0_8.answered, at_0_8.right_when_answered,
            at_0_8.handed_off_when_it_should) == (1 / 3, 1.0, 1.0)


def test_the_json_of_each_question():
    rows = [r.as_json(0.5) for r in results()]
    assert rows[0] == {"question": "shipping?", "expected": "Ships in a day.",
                       "answer": "Ships  in a day.", "confidence": 0.9, "answered": True,
                       "correct": True}
    assert (rows[1]["answered"], rows[1]["correct"]) == (False, False)
    assert (rows[2]["answered"], rows[2]["correct"]) == (True, False)
    assert (rows[3]["answered"], rows[3]["correct"]) == (False, True)
    assert (rows[4]["answered"], rows[4]["correct"]) == (False, False)  # asked for a human


def test_a_failing_responder_counts_as_a_handoff_with_its_reason():
    def respond(question):
        raise ResponderError("model server unreachable")

    [result] = evaluation.run([Case("shipping?", "Ships in a day.")], respond)
    assert result == Result("shipping?", "Ships in a day.", "", 0.0,
                            error="model server unreachable")
    assert "error" not in result.as_json(0.5)  # the six keys of the contract, no more
    assert not result.answered(0.0)
    assert evaluation.failures([result]) == ("1 of 1 questions failed (counted as handed "
                                             "off): model server unreachable")


def test_any_exception_of_the_responder_is_one_failed_question_not_the_end():
    def respond(question):
        if question == "boom?":
            raise RuntimeError("internal")
        return Answer("Ships in a day.", 0.9)

    results = evaluation.run([Case("boom?", ""), Case("shipping?", "Ships in a day.")],
                             respond)
    assert results[0].error == "the responder failed (RuntimeError)"
    assert results[1].correct(0.5)
    assert evaluation.failures(results).startswith("1 of 2 questions failed")


def test_nothing_to_count_reads_0_percent():
    only_out_of_scope = evaluation.run([Case("joke?", "")], lambda q: Answer("x", 0.1))
    figures = evaluation.figures(only_out_of_scope, 0.5)
    assert evaluation.summary_line(figures) == (
        "1 questions: top-1 0%, answered 0%, right when answered 0%, "
        "handed off when it should 100%")
    assert evaluation.step_line(figures, chosen=True) == (
        "threshold 0.50: answered 0%, right when answered 0%, handed off when it should "
        "100%  <- threshold used")
