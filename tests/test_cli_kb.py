"""`flask kb import|list|search|eval`: what an operator types, what they read back."""

import json
import re
from pathlib import Path

import pytest

from opencx_bridge.extensions import db
from opencx_bridge.kb import articles
from opencx_bridge.store import settings

FIXTURES = Path(__file__).parent / "fixtures" / "kb"
FAQ = str(FIXTURES / "faq.csv")


def run(runner, *args):
    return runner.invoke(args=["kb", *args])


def test_import_the_faq_then_again_without_duplicates(app, runner):
    first = run(runner, "import", FAQ)
    assert first.exit_code == 0, first.output
    assert "1 file(s): 4 created, 0 updated, 0 unchanged, 0 error(s)." in first.output
    second = run(runner, "import", FAQ)
    assert second.exit_code == 0
    assert "0 created, 0 updated, 4 unchanged" in second.output
    with app.app_context():
        assert articles.count() == 4


def test_import_a_markdown_folder(app, runner):
    result = run(runner, "import", str(FIXTURES / "markdown"))
    assert result.exit_code == 0, result.output
    assert "3 file(s): 4 created" in result.output
    with app.app_context():
        assert {a.topic for a in articles.listing()} == {None, "billing", "security"}


def test_errors_name_the_file_and_line_and_the_good_rows_still_count(runner, tmp_path):
    faq = tmp_path / "faq.csv"
    faq.write_text("question,answer\nGood?,Yes.\nBad?,\n")
    result = run(runner, "import", str(faq))
    assert result.exit_code == 0
    assert "error: faq.csv:3: empty answer" in result.output
    assert "1 created, 0 updated, 0 unchanged, 1 error(s)." in result.output


def test_nothing_imported_exits_non_zero(app, runner, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("title,body\nA,B\n")
    result = run(runner, "import", str(bad))
    assert result.exit_code == 1
    assert "error: bad.csv:1: the header must name the columns question,answer" in result.output
    assert "nothing was imported" in result.output
    with app.app_context():
        assert articles.count() == 0


def test_a_file_without_rows_exits_non_zero_and_says_so(runner, tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("question,answer\n")
    result = run(runner, "import", str(empty))
    assert result.exit_code == 1
    assert f"nothing was imported: no articles in {empty}." in result.output


def test_a_missing_path_is_a_usage_error(runner, tmp_path):
    result = run(runner, "import", str(tmp_path / "nope.csv"))
    assert result.exit_code == 2 and "does not exist" in result.output


def test_list_on_an_empty_knowledge_base_says_how_to_fill_it(runner):
    result = run(runner, "list")
    assert result.exit_code == 0 and "kb import PATH" in result.output


def test_list_shows_id_topic_and_question(app, runner):
    run(runner, "import", FAQ)
    lines = run(runner, "list").output.splitlines()
    assert len(lines) == 4
    assert [line.split()[1] for line in lines] == ["account", "billing", "shipping", "-"]
    assert lines[2].split(None, 2)[2] == "How long does shipping take?"
    only = run(runner, "list", "--topic", "Billing").output.splitlines()
    assert len(only) == 1 and "refund" in only[0]


def test_search_shows_scores_and_the_confidence_the_responder_would_use(app, runner):
    run(runner, "import", FAQ)
    result = run(runner, "search", "how long does shipping to canada take")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0].split() == ["id", "score", "conf", "topic", "question"]
    fields = lines[1].split(None, 4)
    assert fields[3:] == ["shipping", "How long does shipping take?"]
    assert float(fields[1]) > 0 and float(fields[2]) == 0.8
    assert lines[-1] == (f"responder: article {fields[0]}, confidence 0.80, topic shipping "
                         "(the AI answers: threshold 0.60)")


def test_search_without_a_match_and_small_talk(app, runner):
    run(runner, "import", FAQ)
    unrelated = run(runner, "search", "kubernetes cluster").output.splitlines()
    assert unrelated[-1].endswith("(the AI hands off: threshold 0.60)")
    assert run(runner, "search", "🙂").output.splitlines() == [
        "responder: no matching article, confidence 0.00 (the AI hands off)"]
    greeting = run(runner, "search", "hello there")
    assert greeting.output.splitlines()[-1].startswith("responder: small talk, confidence 1.00")


def test_search_with_a_hostile_query_does_not_crash(app, runner):
    run(runner, "import", FAQ)
    result = run(runner, "search", '"shipping" NEAR(canada*) -x: OR')
    assert result.exit_code == 0 and "shipping" in result.output


def test_import_after_an_edit_in_the_dashboard_overwrites_it(app, runner):
    run(runner, "import", FAQ)
    with app.app_context():
        article = next(a for a in articles.listing() if a.topic == "shipping")
        articles.update(article, article.question, "Edited.", "shipping", "")
        db.session.commit()
    result = run(runner, "import", FAQ)
    assert "0 created, 1 updated, 3 unchanged" in result.output


HINT3 = FIXTURES / "hint3_sofmattress"
SUMMARY = re.compile(r"^(\d+) questions: top-1 (\d+)%, answered (\d+)%, right when answered "
                     r"(\d+)%, handed off when it should (\d+)%$")
STEP = re.compile(r"^threshold (\d\.\d\d): answered (\d+)%, right when answered (\d+)%, "
                  r"handed off when it should (\d+)%(  <- threshold used)?$")


def test_eval_on_real_questions_prints_a_line_per_threshold_and_the_summary(app, runner,
                                                                             tmp_path):
    assert run(runner, "import", str(HINT3 / "faq_10.csv")).exit_code == 0
    out = tmp_path / "results.json"
    result = run(runner, "eval", str(HINT3 / "questions.csv"), "--json", str(out))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    steps = [STEP.match(line) for line in lines[:-1]]
    assert all(steps) and len(steps) == 10
    assert [m.group(1) for m in steps if m.group(5)] == ["0.60"]  # the setting's default
    assert lines[-1] == ("397 questions: top-1 68%, answered 26%, right when answered 85%, "
                         "handed off when it should 97%")
    right = [int(m.group(3)) for m in steps]
    assert right[7] > right[4] > right[1]  # surer answers are right more often
    rows = json.loads(out.read_text())
    assert len(rows) == 397
    assert all(set(row) == {"question", "expected", "answer", "confidence", "answered",
                            "correct"} for row in rows)
    answered = [row for row in rows if row["answered"]]
    assert all(row["confidence"] >= 0.6 for row in answered)
    assert sum(row["correct"] for row in answered) == round(0.85 * len(answered))


def test_eval_with_one_phrasing_and_a_threshold_of_ones_own(app, runner):
    assert run(runner, "import", str(HINT3 / "faq_1.csv")).exit_code == 0
    result = run(runner, "eval", str(HINT3 / "questions.csv"), "--threshold", "0.25")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert [line for line in lines if line.endswith("<- threshold used")] == [
        line for line in lines if line.startswith("threshold 0.25:")]
    assert len(lines) == 12 and SUMMARY.match(lines[-1])
    assert lines[-1].startswith("397 questions: top-1 40%")


@pytest.mark.parametrize(("content", "message"), [
    ("question,answer\nq,a\n", "the first line must name the columns question,expected "
                               "(found: question,answer)"),
    ("question,expected\n", "no questions"),
])
def test_eval_of_a_file_it_cannot_use_says_why(runner, tmp_path, content, message):
    path = tmp_path / "questions.csv"
    path.write_text(content)
    result = run(runner, "eval", str(path))
    assert result.exit_code == 1
    assert f"Error: {path}: {message}" in result.output
    assert "Traceback" not in result.output


def test_eval_of_a_file_that_is_not_text(runner, tmp_path):
    path = tmp_path / "questions.csv"
    path.write_bytes(b"question,expected\n\xff\xfe\x00bad\n")
    result = run(runner, "eval", str(path))
    assert result.exit_code == 1 and "is not UTF-8 text" in result.output


def test_eval_uses_the_configured_responder(app, runner, tmp_path):
    with app.app_context():
        settings.set_many({"responder": "openai_compatible"}, "test")
    path = tmp_path / "questions.csv"
    path.write_text("question,expected\nhow long does shipping take?,Soon.\n")
    out = tmp_path / "out.json"
    result = run(runner, "eval", str(path), "--json", str(out))
    assert result.exit_code == 0, result.output
    [row] = json.loads(out.read_text())
    assert row["answered"] is False and row["answer"] == ""
    assert "warning: 1 of 1 questions failed (counted as handed off): AI unavailable: " \
           "responder is openai_compatible but openai_base_url or openai_model is empty" \
        in result.output
