"""PostgreSQL's own needs: no NUL in text, whatever a client sends."""

import databases
from sqlalchemy import select

from opencx_bridge.extensions import db
from opencx_bridge.kb import articles, search
from opencx_bridge.store.models import Article
from opencx_bridge.store.postgres import without_nul


def test_nul_is_replaced_in_strings_and_in_what_holds_them():
    assert without_nul("a\x00b") == "a\ufffdb"
    assert without_nul({"x": ("a\x00", 1, None), "y": ["\x00"]}) == {"x": ("a\ufffd", 1, None),
                                                                     "y": ["\ufffd"]}
    assert without_nul(b"a\x00") == b"a\x00"  # bytes are bytes


def test_text_with_nul_is_stored_and_searched_on_either_database(app):
    with app.app_context():
        articles.create("Where is\x00 my parcel?", "On its way.", None, "")
        db.session.commit()
        stored = db.session.scalar(select(Article.question))
        assert search.search("\x00parcel")[0].answer == "On its way."
    expected = "Where is\ufffd my parcel?" if databases.ON_POSTGRESQL else "Where is\x00 my parcel?"
    assert stored == expected  # PostgreSQL cannot keep NUL; SQLite keeps what it is given
