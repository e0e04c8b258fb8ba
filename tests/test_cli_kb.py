"""`flask kb import|list|search`: what an operator types, what they read back."""

from pathlib import Path

from opencx_bridge.extensions import db
from opencx_bridge.kb import articles

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
    assert lines[-1] == f"responder: article {fields[0]}, confidence 0.80, topic shipping"


def test_search_without_a_match_and_small_talk(app, runner):
    run(runner, "import", FAQ)
    assert run(runner, "search", "kubernetes cluster").output.splitlines() == [
        "responder: no matching article, confidence 0.00 (the AI hands off)"]
    greeting = run(runner, "search", "hello there")
    assert greeting.output.startswith("responder: small talk, confidence 1.00")


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
