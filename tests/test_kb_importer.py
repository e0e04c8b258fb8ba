"""Importing articles: CSV and Markdown parsing (pure), folders and topics, and re-import
in place without duplicates."""

from pathlib import Path

import pytest

from opencx_bridge.extensions import db
from opencx_bridge.kb import articles, importer

FIXTURES = Path(__file__).parent / "fixtures" / "kb"


def parsed_csv(content: str, topic: str | None = None):
    return importer.parse_csv(content, "faq.csv", topic)


def test_the_fixture_csv_gives_four_articles_with_topics_and_tags():
    drafts, errors = parsed_csv((FIXTURES / "faq.csv").read_text())
    assert errors == []
    assert [(d.question, d.topic, d.origin) for d in drafts] == [
        ("How long does shipping take?", "shipping", "faq.csv:2"),
        ("How do I return an item and get a refund?", "billing", "faq.csv:3"),
        ("How do I reset my password?", "account", "faq.csv:4"),
        ("What are your opening hours?", None, "faq.csv:5"),
    ]
    assert drafts[0].tags == "delivery,tracking"
    assert drafts[0].source_key == "csv:how long does shipping take"
    assert drafts[1].source_key == "csv:how do i return an item and get a refund"
    assert 'Click "Forgot password"' in drafts[2].answer


def test_only_question_and_answer_are_required_and_extra_columns_are_ignored():
    drafts, errors = parsed_csv("Answer, Question ,notes\nIt is blue.,What colour?,internal\n")
    assert errors == []
    assert (drafts[0].question, drafts[0].answer, drafts[0].topic, drafts[0].tags) == (
        "What colour?", "It is blue.", None, "")


def test_a_semicolon_separated_csv_is_understood():
    drafts, errors = parsed_csv("question;answer;topic\nWhat colour?;Blue, mostly.;Product\n")
    assert errors == [] and (drafts[0].answer, drafts[0].topic) == ("Blue, mostly.", "product")


@pytest.mark.parametrize("content", ["", "title,body\nA,B\n", "question\nA\n"])
def test_a_bad_header_is_reported_on_line_1(content):
    drafts, errors = parsed_csv(content)
    assert drafts == []
    assert len(errors) == 1 and errors[0].startswith("faq.csv:1: the header must name")


def test_bad_rows_are_reported_with_their_line_and_the_others_kept():
    content = ('question,answer\n'
               'First?,"An answer\nover two lines"\n'
               'Second?,   \n'
               '\n'
               ',An answer without question\n'
               'Third?,Fine.\n'
               'first?,The same question again.\n')
    drafts, errors = parsed_csv(content)
    assert [d.question for d in drafts] == ["First?", "Third?", "first?"]
    assert errors == ["faq.csv:4: empty answer", "faq.csv:6: empty question"]
    assert drafts[0].answer == "An answer\nover two lines"


def test_duplicates_in_one_import_are_skipped_with_a_message(tmp_path):
    (tmp_path / "faq.csv").write_text("question,answer\nFirst?,A.\nFIRST ?,B.\n")
    drafts, errors, files = importer.read_path(tmp_path)
    assert [d.answer for d in drafts] == ["A."] and files == 1
    assert errors == ["faq.csv:3: duplicate of faq.csv:2 (same question or section); skipped"]


def test_a_default_topic_applies_when_the_row_has_none():
    drafts, _ = parsed_csv("question,answer,topic\nA?,a.,\nB?,b.,Billing\n", topic="Shop")
    assert [d.topic for d in drafts] == ["shop", "billing"]


def test_a_markdown_file_without_sections_is_one_article_titled_by_its_heading():
    drafts, errors = importer.parse_markdown(
        (FIXTURES / "markdown" / "getting-started.md").read_text(), "getting-started.md")
    assert errors == []
    assert [(d.question, d.source_key, d.topic) for d in drafts] == [
        ("Getting started with Acme", "md:getting-started.md", None)]
    assert drafts[0].answer.startswith("Create an account") and "#" not in drafts[0].answer


@pytest.mark.parametrize(("content", "title"), [
    ("---\ntitle: 'Delivery times'\n---\n# Ignored heading\nTwo days.\n", "Delivery times"),
    ("Just an answer.\n", "Opening hours"),
])
def test_the_title_comes_from_front_matter_or_the_file_name(content, title):
    drafts, errors = importer.parse_markdown(content, "help/opening_hours.md")
    assert errors == [] and drafts[0].question == title


def test_a_markdown_file_with_sections_gives_one_article_per_section():
    drafts, errors = importer.parse_markdown(
        (FIXTURES / "markdown" / "billing" / "payments.md").read_text(), "billing/payments.md",
        "billing")
    assert errors == []
    assert [(d.question, d.source_key, d.origin) for d in drafts] == [
        ("Which payment methods do you accept?",
         "md:billing/payments.md#which-payment-methods-do-you-accept", "billing/payments.md:7"),
        ("How do I get an invoice?", "md:billing/payments.md#how-do-i-get-an-invoice",
         "billing/payments.md:11"),
    ]
    assert all(d.topic == "billing" and d.tags == "invoices,cards" for d in drafts)
    assert "## this is code" in drafts[1].answer  # inside a code fence: not a section
    assert "introduction" not in drafts[0].answer


def test_markdown_problems_are_reported_with_their_line():
    drafts, errors = importer.parse_markdown(
        "# FAQ\n## Empty?\n\n## Same\nOne.\n## Same\nTwo.\n", "faq.md")
    assert errors == ["faq.md:2: empty answer"]
    assert [d.source_key for d in drafts] == ["md:faq.md#same", "md:faq.md#same-2"]
    assert importer.parse_markdown("---\ntopic: x\nNo end.\n", "faq.md") == (
        [], ["faq.md:1: front matter opened with --- but never closed"])


def test_a_folder_is_read_recursively_with_topics_from_subfolders():
    drafts, errors, files = importer.read_path(FIXTURES / "markdown")
    assert errors == [] and files == 3
    topics = {d.question: d.topic for d in drafts}
    assert topics == {
        "How do I turn on two-factor authentication?": "security",  # front matter wins
        "Which payment methods do you accept?": "billing",
        "How do I get an invoice?": "billing",
        "Getting started with Acme": None,  # at the top of the imported folder
    }


def test_unreadable_and_unsupported_files_are_errors(tmp_path):
    (tmp_path / "latin1.md").write_bytes("# Caf\xe9\nOuvert.".encode("latin-1"))
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "secret.md").write_text("# Secret\nHidden.")
    (tmp_path / "notes.txt").write_text("ignored in a folder")
    drafts, errors, files = importer.read_path(tmp_path)
    assert (drafts, files) == ([], 1)
    assert errors == ["latin1.md: cannot read as UTF-8 text (UnicodeDecodeError)"]
    _, errors, _ = importer.read_path(tmp_path / "notes.txt")
    assert errors == ["notes.txt: not a .csv or .md file"]
    empty = tmp_path / "empty"
    empty.mkdir()
    assert importer.read_path(empty)[1] == [f"{empty}: no .csv or .md files found"]


def test_reimport_updates_in_place_without_duplicates(app, tmp_path):
    faq = tmp_path / "faq.csv"
    faq.write_text((FIXTURES / "faq.csv").read_text())
    with app.app_context():
        first = importer.import_path(faq)
        db.session.commit()
        ids = {a.question: a.id for a in articles.listing()}
        again = importer.import_path(faq)
        db.session.commit()
        faq.write_text(faq.read_text().replace("5-8 business days to Canada",
                                               "4-6 business days to Canada"))
        changed = importer.import_path(faq)
        db.session.commit()
        after = {a.question: a for a in articles.listing()}
    assert (first.created, first.updated, first.unchanged, first.errors) == (4, 0, 0, [])
    assert (again.created, again.updated, again.unchanged) == (0, 0, 4)
    assert (changed.created, changed.updated, changed.unchanged) == (0, 1, 3)
    assert {q: a.id for q, a in after.items()} == ids
    assert "4-6 business days to Canada" in after["How long does shipping take?"].answer


def test_importing_a_folder_twice_keeps_one_article_per_section(app):
    with app.app_context():
        first = importer.import_path(FIXTURES / "markdown")
        db.session.commit()
        second = importer.import_path(FIXTURES / "markdown")
        db.session.commit()
        assert articles.count() == 4
    assert (first.created, second.unchanged, second.imported) == (4, 4, 4)


def test_a_phrasings_column_gives_the_other_ways_to_ask():
    drafts, errors = parsed_csv("question,answer,phrasings\n"
                                "Where is my parcel?,On its way.,"
                                "When will it arrive? | track my order||Where is my parcel?\n")
    assert errors == []
    assert drafts[0].phrasings == "When will it arrive?\ntrack my order"


def test_rows_with_the_same_answer_are_one_article_asked_several_ways():
    drafts, errors = parsed_csv("question,answer,phrasings\n"
                                "Where is my parcel?,On its way.,\n"
                                "Opening hours?,9 to 5.,\n"
                                "When will it arrive?,  On its way. ,track my order\n"
                                "where is my parcel?,On its way.,\n")
    assert errors == []
    assert [(d.question, d.origin) for d in drafts] == [
        ("Where is my parcel?", "faq.csv:2"), ("Opening hours?", "faq.csv:3")]
    assert drafts[0].phrasings == "When will it arrive?\ntrack my order"


def test_too_long_a_phrasing_is_reported_and_the_article_kept_without_it():
    long = "x" * (articles.MAX_QUESTION + 1)
    drafts, errors = parsed_csv(f"question,answer,phrasings\nQ?,A.,{long}\nQ2?,A.,\n")
    assert errors == ["faq.csv:2: a phrasing is longer than 500 characters (it starts "
                      "“xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx…”)"]
    assert [d.question for d in drafts] == ["Q2?"]  # the row is refused whole, its twin stays
    drafts, errors = parsed_csv(f"question,answer\nQ?,A.\n{long},A.\n")
    assert [d.question for d in drafts] == ["Q?"] and len(errors) == 1


def test_markdown_front_matter_questions_as_a_list_or_on_one_line():
    listed = ("---\ntopic: shipping\nquestions:\n  - When will it arrive?\n  - \"track my order\"\n"
              "tags: delivery\n---\n# Where is my parcel?\nOn its way.\n")
    drafts, errors = importer.parse_markdown(listed, "parcel.md")
    assert errors == []
    assert (drafts[0].question, drafts[0].phrasings, drafts[0].tags) == (
        "Where is my parcel?", "When will it arrive?\ntrack my order", "delivery")
    inline = "---\nquestions: When will it arrive? | track my order\n---\n# Parcel\nSoon.\n"
    assert importer.parse_markdown(inline, "p.md")[0][0].phrasings == (
        "When will it arrive?\ntrack my order")


def test_front_matter_questions_in_a_sectioned_file_are_reported_not_lost_silently():
    content = "---\nquestions: a | b\n---\n## One\nFirst.\n## Two\nSecond.\n"
    drafts, errors = importer.parse_markdown(content, "many.md")
    assert [d.question for d in drafts] == ["One", "Two"]
    assert all(d.phrasings == "" for d in drafts)
    assert errors == ["many.md:1: questions: in the front matter belong to a file of one "
                      "article, and this one has 2 ## sections; those questions were not "
                      "imported (give each article its own file)"]


def test_phrasings_are_stored_and_a_reimport_replaces_them(app, tmp_path):
    path = tmp_path / "faq.csv"
    path.write_text("question,answer,phrasings\nWhere is my parcel?,On its way.,a|b\n")
    with app.app_context():
        assert importer.import_path(path).created == 1
        assert articles.phrasings_of(articles.listing()[0]) == ["Where is my parcel?", "a", "b"]
        path.write_text("question,answer,phrasings\nWhere is my parcel?,On its way.,c\n")
        assert importer.import_path(path).updated == 1
        assert articles.listing()[0].phrasings == "c"


def test_merged_rows_say_when_their_topic_or_tags_are_not_used():
    drafts, errors = parsed_csv("question,answer,topic,tags\nA?,Same.,shipping,x\n"
                                "B?,Same.,billing,\n")
    assert [d.question for d in drafts] == ["A?"] and drafts[0].phrasings == "B?"
    assert errors == ["faq.csv:3: same answer as faq.csv:2, so its question is a phrasing "
                      "there; its topic 'billing' was not used (the article has 'shipping')"]


def test_a_reimport_that_merges_rows_removes_their_old_articles(app, tmp_path):
    path = tmp_path / "faq.csv"
    path.write_text("question,answer\nWhere is my parcel?,On its way.\n"
                    "Opening hours?,9 to 5.\n")
    with app.app_context():
        assert importer.import_path(path).created == 2
        path.write_text("question,answer\nOpening hours?,9 to 5.\n"
                        "Where is my parcel?,9 to 5.\n")  # now one article, asked two ways
        report = importer.import_path(path)
        assert (report.merged, report.updated) == (1, 1)
        assert [(a.question, a.phrasings) for a in articles.listing()] == [
            ("Opening hours?", "Where is my parcel?")]


def test_a_row_repeated_word_for_word_keeps_its_article(app, tmp_path):
    path = tmp_path / "faq.csv"
    path.write_text("question,answer\nWhere is my parcel?,On its way.\n")
    with app.app_context():
        importer.import_path(path)
        first = articles.listing()[0].id
        path.write_text("question,answer\nWhere is my parcel?,On its way.\n"
                        "where is my parcel,On its way.\n")
        report = importer.import_path(path)
        assert report.merged == 0 and report.created == 0, report
        assert [a.id for a in articles.listing()] == [first]
