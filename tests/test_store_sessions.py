"""Reading sessions: find by session id or conversation id, newest first, the contact."""

from datetime import datetime

import pytest

from opencx_bridge.extensions import db
from opencx_bridge.store import sessions
from opencx_bridge.store.models import ChatSession, Contact, Message


def add_session(conversation_id: str, status: str = "open", contact: Contact | None = None,
                **fields) -> ChatSession:
    row = ChatSession(conversation_id=conversation_id, routing_mode="auto", status=status,
                      contact_id=contact.id if contact else None, **fields)
    db.session.add(row)
    db.session.commit()
    return row


def add_contact(email: str | None, name: str | None = None) -> Contact:
    contact = Contact(email=email, name=name)
    db.session.add(contact)
    db.session.commit()
    return contact


def test_the_session_statuses_are_open_handed_off_and_resolved():
    assert sessions.STATUSES == ("open", "handed_off", "resolved")


def test_a_session_is_found_by_its_id(ctx):
    add_session("conv-a")
    row = add_session("conv-b")
    assert sessions.find(str(row.id)) is row
    assert sessions.find(f" {row.id}\n") is row


def test_a_session_is_found_by_its_conversation_id(ctx):
    row = add_session("7d1f3a5c-2b4e-4f60-9a8b-c1d2e3f4a5b6")
    assert sessions.find("7d1f3a5c-2b4e-4f60-9a8b-c1d2e3f4a5b6") is row
    assert sessions.find("  7d1f3a5c-2b4e-4f60-9a8b-c1d2e3f4a5b6 ") is row


def test_a_numeric_conversation_id_is_found_when_no_session_has_that_id(ctx):
    row = add_session("428913")
    assert sessions.find("428913") is row


def test_a_session_id_wins_over_an_equal_conversation_id(ctx):
    first = add_session("conv-a")
    add_session(str(first.id))
    assert sessions.find(str(first.id)) is first


@pytest.mark.parametrize("identifier", ["999", "0", "-1", "conv-x", "", "   "])
def test_nothing_is_found_for_an_unknown_identifier(ctx, identifier):
    add_session("conv-a")
    assert sessions.find(identifier) is None


def test_recent_lists_newest_first(ctx):
    rows = [add_session(f"conv-{n}", created_at=datetime(2026, 11, 24, 10, n)) for n in range(3)]
    assert sessions.recent() == list(reversed(rows))


def test_recent_filters_by_status(ctx):
    add_session("conv-open")
    handed = add_session("conv-handed", status="handed_off")
    add_session("conv-resolved", status="resolved")
    later = add_session("conv-handed-later", status="handed_off")
    assert sessions.recent("handed_off") == [later, handed]
    assert [row.conversation_id for row in sessions.recent("resolved")] == ["conv-resolved"]
    assert len(sessions.recent(None)) == 4


def test_recent_stops_at_the_limit(ctx):
    for n in range(5):
        add_session(f"conv-{n}")
    assert [row.conversation_id for row in sessions.recent(limit=2)] == ["conv-4", "conv-3"]


def test_recent_is_empty_on_a_fresh_bridge(ctx):
    assert sessions.recent() == []
    assert sessions.recent("open") == []


def test_the_contact_of_a_session(ctx):
    contact = add_contact("minji.kim@example.com", "Minji Kim")
    with_contact = add_session("conv-a", contact=contact)
    without = add_session("conv-b")
    assert sessions.contact_of(with_contact) is contact
    assert sessions.contact_of(without) is None


def test_the_transcript_is_the_sessions_messages_in_order(ctx):
    row = add_session("conv-a")
    other = add_session("conv-b")
    for author, text in [("customer", "Where is my order?"), ("ai", "Let me check."),
                         ("agent", "Rita here, it ships today."), ("note", "VIP")]:
        db.session.add(Message(session_id=row.id, author=author, text=text))
    db.session.add(Message(session_id=other.id, author="customer", text="unrelated"))
    db.session.commit()
    assert [(m.author, m.text) for m in sessions.transcript(row)] == [
        ("customer", "Where is my order?"), ("ai", "Let me check."),
        ("agent", "Rita here, it ships today."), ("note", "VIP")]
    assert sessions.transcript(add_session("conv-c")) == []
