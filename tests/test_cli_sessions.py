"""`flask sessions list [--status]` and `flask sessions show <session id | conversation id>`."""

from datetime import datetime

import dashboard_data
import pytest
import statements

from opencx_bridge.engine.rules.types import RETURN_TO_AI
from opencx_bridge.extensions import db
from opencx_bridge.store.models import ChatSession, Event, Message, TimelineEntry

CONVERSATION = "7d1f3a5c-2b4e-4f60-9a8b-c1d2e3f4a5b6"
URL = f"https://acme.freshchat.com/a/app-1/open/conversation/{CONVERSATION}"


def add_session(app, conversation_id: str, **fields) -> tuple[int, int | None]:
    """dashboard_data's, started at a fixed time, with its contact's id as well."""
    fields.setdefault("created_at", datetime(2026, 11, 24, 10, 15, 30))
    session_id = dashboard_data.add_session(app, conversation_id, **fields)
    with app.app_context():
        return session_id, db.session.get(ChatSession, session_id).contact_id


@pytest.fixture
def handed_off(app):
    """A conversation the AI answered until Rita took over."""
    session_id, contact_id = add_session(
        app, CONVERSATION, status="handed_off", email="minji.kim@example.com", name="Minji Kim",
        freshchat_url=URL, assigned_agent_name="Rita Rep", handoff_reason="a rep wrote")
    with app.app_context():
        for author, text in [("customer", "Hi, my order #1042 hasn't arrived yet."),
                             ("ai", "Sorry to hear that, checking now."),
                             ("agent", "Rita here, I'll take it from here.")]:
            db.session.add(Message(session_id=session_id, author=author, text=text))
        for minute, kind, summary in [(15, "event", "message_create received"),
                                      (16, "call", "reply sent (201)"),
                                      (17, "decision", "handed off: a rep wrote")]:
            db.session.add(TimelineEntry(conversation_id=CONVERSATION, kind=kind,
                                         summary=summary, at=datetime(2026, 11, 24, 10, minute)))
        db.session.add(TimelineEntry(conversation_id="another", kind="event",
                                     summary="not this conversation"))
        db.session.commit()
    return session_id, contact_id


def fields_of(output: str) -> dict[str, str]:
    head = output.split("transcript:\n", 1)[0]
    return dict(line.split(": ", 1) for line in head.splitlines())


# show -------------------------------------------------------------------------------------

def test_show_by_session_id_prints_status_contact_and_freshchat_link(runner, handed_off):
    session_id, contact_id = handed_off
    result = runner.invoke(args=["sessions", "show", str(session_id)])
    assert result.exit_code == 0, result.output
    fields = fields_of(result.output)
    assert fields["session"] == str(session_id)
    assert fields["conversation_id"] == CONVERSATION
    assert fields["status"] == "handed_off"
    assert fields["contact"] == f"{contact_id} minji.kim@example.com Minji Kim"
    assert fields["contact"].split()[:2] == [str(contact_id), "minji.kim@example.com"]
    assert fields["freshchat_url"] == URL
    assert fields["assigned_agent"] == "Rita Rep"
    assert fields["handoff_reason"] == "a rep wrote"
    assert fields["created"] == "2026-11-24T10:15:30Z"


def test_show_by_conversation_id_prints_the_same_session(runner, handed_off):
    by_id = runner.invoke(args=["sessions", "show", str(handed_off[0])])
    by_conversation = runner.invoke(args=["sessions", "show", CONVERSATION])
    assert by_conversation.exit_code == 0, by_conversation.output
    assert by_conversation.output == by_id.output


def test_show_prints_the_transcript_then_the_timeline_in_order(runner, handed_off):
    output = runner.invoke(args=["sessions", "show", CONVERSATION]).output
    transcript, timeline = output.split("transcript:\n", 1)[1].split("timeline:\n", 1)
    assert transcript.splitlines() == [
        "  [customer] Hi, my order #1042 hasn't arrived yet.",
        "  [ai] Sorry to hear that, checking now.",
        "  [agent] Rita here, I'll take it from here."]
    assert timeline.splitlines() == [
        "  2026-11-24T10:15:00Z event: message_create received",
        "  2026-11-24T10:16:00Z call: reply sent (201)",
        "  2026-11-24T10:17:00Z decision: handed off: a rep wrote"]


def test_show_a_session_without_contact_link_or_messages(app, runner):
    session_id, _ = add_session(app, "conv-bare")
    result = runner.invoke(args=["sessions", "show", "conv-bare"])
    assert result.exit_code == 0, result.output
    fields = fields_of(result.output)
    assert fields["status"] == "open"
    assert fields["contact"] == "-"
    assert fields["freshchat_url"] == "-"
    assert fields["assigned_agent"] == "-"
    assert fields["awaiting_reply"] == "no"
    assert result.output.endswith("transcript:\ntimeline:\n")


def test_show_a_contact_without_email(app, runner):
    _, contact_id = add_session(app, "conv-guest", name="Guest")
    fields = fields_of(runner.invoke(args=["sessions", "show", "conv-guest"]).output)
    assert fields["contact"] == f"{contact_id} (no email) Guest"


@pytest.mark.parametrize("identifier", ["999", "no-such-conversation"])
def test_show_an_unknown_session_fails_clearly(runner, handed_off, identifier):
    result = runner.invoke(args=["sessions", "show", identifier])
    assert result.exit_code == 1
    assert result.output == f"Error: no session with id or conversation id {identifier!r}\n"


def test_show_needs_an_identifier(runner):
    result = runner.invoke(args=["sessions", "show"])
    assert result.exit_code == 2
    assert "Missing argument 'IDENTIFIER'" in result.output


# list -------------------------------------------------------------------------------------

def test_list_on_a_fresh_bridge_says_there_are_none(runner):
    result = runner.invoke(args=["sessions", "list"])
    assert result.exit_code == 0
    assert result.output == "no sessions\n"


def test_list_shows_sessions_newest_first_with_status_and_contact(app, runner):
    first, _ = add_session(app, "conv-1", email="a@example.com")
    second, contact = add_session(app, "conv-2", status="handed_off", name="No Email")
    third, _ = add_session(app, "conv-3", status="resolved")
    result = runner.invoke(args=["sessions", "list"])
    assert result.exit_code == 0, result.output
    assert [line.split("\t") for line in result.output.splitlines()] == [
        [str(third), "resolved", "conv-3", "-", "2026-11-24T10:15:30Z"],
        [str(second), "handed_off", "conv-2", "No Email", "2026-11-24T10:15:30Z"],
        [str(first), "open", "conv-1", "a@example.com", "2026-11-24T10:15:30Z"],
    ]


def test_list_filters_by_status(app, runner):
    add_session(app, "conv-1")
    handed, _ = add_session(app, "conv-2", status="handed_off")
    add_session(app, "conv-3", status="resolved")
    result = runner.invoke(args=["sessions", "list", "--status", "handed_off"])
    assert result.exit_code == 0, result.output
    assert [line.split("\t")[:3] for line in result.output.splitlines()] == [
        [str(handed), "handed_off", "conv-2"]]


def test_list_with_a_status_nobody_has_says_so(app, runner):
    add_session(app, "conv-1")
    result = runner.invoke(args=["sessions", "list", "--status", "resolved"])
    assert result.exit_code == 0
    assert result.output == "no sessions with status resolved\n"


def test_list_respects_the_limit(app, runner):
    for n in range(3):
        add_session(app, f"conv-{n}")
    result = runner.invoke(args=["sessions", "list", "--limit", "2"])
    assert [line.split("\t")[2] for line in result.output.splitlines()] == ["conv-2", "conv-1"]


def statements_for_list(app, runner, sessions: int) -> int:
    for n in range(sessions):
        add_session(app, f"conv-{sessions}-{n}", email=f"c{sessions}-{n}@example.com")
    with statements.recorded(app) as seen:
        result = runner.invoke(args=["sessions", "list", "--limit", str(sessions)])
    assert result.exit_code == 0, result.output
    assert len(result.output.splitlines()) == sessions
    assert f"\tc{sessions}-{sessions - 1}@example.com\t" in result.output.splitlines()[0]
    return len(seen)


def test_list_reads_the_contacts_in_one_batch_not_one_per_session(app, runner):
    assert statements_for_list(app, runner, 3) == 2  # the sessions, then their contacts
    assert statements_for_list(app, runner, 30) == 2  # before: 1 + one per session (31)


@pytest.mark.parametrize("status", ["bogus", "closed", "OPEN", ""])
def test_list_with_an_unknown_status_is_a_usage_error(runner, status):
    result = runner.invoke(args=["sessions", "list", "--status", status])
    assert result.exit_code == 2
    assert "Invalid value for '--status'" in result.output
    assert "'open', 'handed_off', 'resolved'" in result.output


@pytest.mark.parametrize("limit", ["0", "-5", "many"])
def test_list_with_a_bad_limit_is_a_usage_error(runner, limit):
    result = runner.invoke(args=["sessions", "list", "--limit", limit])
    assert result.exit_code == 2
    assert "Invalid value for '--limit'" in result.output


# return-to-ai ------------------------------------------------------------------------------

def test_return_to_ai_queues_the_return_for_the_worker(app, runner, handed_off, connected):
    session_id, _ = handed_off
    result = runner.invoke(args=["sessions", "return-to-ai", str(session_id)])
    assert result.exit_code == 0, result.output
    assert "goes back to the AI" in result.output
    with app.app_context():
        [event] = db.session.scalars(db.select(Event).where(Event.action == RETURN_TO_AI))
        assert event.status == "pending" and event.conversation_id == CONVERSATION


def test_return_to_ai_says_why_it_cannot(app, runner, connected):
    missing = runner.invoke(args=["sessions", "return-to-ai", "nope"])
    assert missing.exit_code == 1
    assert "no session with id or conversation id 'nope'" in missing.output
    session_id, _ = add_session(app, "c-open", status="open")
    result = runner.invoke(args=["sessions", "return-to-ai", str(session_id)])
    assert result.exit_code == 1 and "only a handed-off session" in result.output
