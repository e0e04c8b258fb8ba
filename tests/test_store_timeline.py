"""The timeline: entries added with the ORM or inserted at once read back the same."""

from datetime import timedelta

from sqlalchemy import select

from opencx_bridge.extensions import db
from opencx_bridge.store import timeline
from opencx_bridge.store.models import TimelineEntry


def test_an_entry_inserted_at_once_reads_back_like_one_added(app):
    detail = {"dedup_key": "message:1", "retry_count": None, "text": "안녕 👋"}
    with app.app_context():
        timeline.add("c1", "event", "x" * 2100, detail)
        db.session.commit()
        with db.engine.connect() as connection:
            timeline.add_now(connection, "c1", "event", "x" * 2100, detail)
            connection.commit()
        added, inserted = timeline.entries("c1")
        for entry in (added, inserted):
            assert (entry.kind, entry.summary) == ("event", "x" * 2000)
            assert entry.detail == ('{"dedup_key": "message:1", "retry_count": null, '
                                    '"text": "안녕 👋"}')
        assert abs(inserted.at - added.at) < timedelta(minutes=1)  # same form, same clock
        assert inserted.id > added.id


def test_an_entry_inserted_at_once_is_undone_with_its_transaction(app):
    with app.app_context():
        with db.engine.connect() as connection:
            timeline.add_now(connection, "c1", "duplicate", "dropped")
        assert list(db.session.scalars(select(TimelineEntry))) == []


def test_entries_are_one_conversations_in_order(app):
    with app.app_context():
        for conversation, summary in (("c1", "a"), ("c2", "b"), ("c1", "c")):
            timeline.add(conversation, "event", summary)
        db.session.commit()
        assert [entry.summary for entry in timeline.entries("c1")] == ["a", "c"]
        assert timeline.entries("c1", limit=1)[0].summary == "c"  # the newest
