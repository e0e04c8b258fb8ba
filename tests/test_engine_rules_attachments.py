"""Attachments written into the question as the transcript shows them, and read back."""

from opencx_bridge.engine.rules.attachments import split_question, with_attachments


def test_a_message_reads_as_its_words_then_a_line_per_attachment():
    assert with_attachments("it broke", ("image https://cdn/x.png",)) == (
        "it broke\n[image https://cdn/x.png]")
    assert with_attachments("", ("file bill.pdf https://cdn/b.pdf",)) == (
        "[file bill.pdf https://cdn/b.pdf]")
    assert with_attachments("just words", ()) == "just words"


def test_the_question_splits_into_words_and_image_addresses():
    question = ("hello\n[image https://cdn/a.png]\n[file bill.pdf https://cdn/b.pdf]\n"
                "second message\n[image https://cdn/c.jpg]")
    assert split_question(question) == ("hello\nsecond message",
                                        ("https://cdn/a.png", "https://cdn/c.jpg"))


def test_only_attachment_lines_are_taken_out():
    assert split_question("[image]\n[video https://cdn/v.mp4]") == ("", ())  # no address
    assert split_question("see [image https://cdn/a.png] above") == (
        "see [image https://cdn/a.png] above", ())  # inside a sentence it is words
    assert split_question("[image ftp://cdn/a.png]") == ("", ())  # not a web address
