"""The sessions export: the same rows from the browser and the shell, streamed in chunks."""

import csv
import io
from datetime import timedelta

from opencx_bridge.extensions import db
from opencx_bridge.outcomes import export
from opencx_bridge.store.models import ChatSession, Contact, utcnow


def add_sessions(app, count=3):
    now = utcnow()
    with app.app_context():
        contact = Contact(email="=cmd@example.com", name="Formula")
        db.session.add(contact)
        db.session.flush()
        db.session.add(ChatSession(
            conversation_id="c-resolved", routing_mode="auto", status="resolved",
            contact_id=contact.id, created_at=now - timedelta(days=3),
            first_customer_message_at=now - timedelta(days=3),
            first_ai_reply_at=now - timedelta(days=3) + timedelta(seconds=4),
            first_reply_seconds=4.0, first_resolved_at=now - timedelta(days=2),
            resolved_at=now - timedelta(days=2), freshchat_url="https://acme.freshchat.com/x"))
        db.session.add(ChatSession(
            conversation_id="c-handed", routing_mode="auto", status="handed_off",
            handoff_reason="the customer asked for a human", handed_off_at=now,
            handoff_kind="human_asked", created_at=now))
        for n in range(count - 2):
            db.session.add(ChatSession(conversation_id=f"c-open-{n}", routing_mode="auto",
                                       created_at=now))
        db.session.commit()


def parse(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def test_the_export_has_one_row_per_session_with_its_outcome(app, admin):
    add_sessions(app)
    response = admin.get("/sessions/export.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.is_streamed
    rows = parse(response.get_data(as_text=True))
    assert [r["conversation_id"] for r in rows] == ["c-resolved", "c-handed", "c-open-0"]
    resolved, handed, still_open = rows
    assert (resolved["outcome"], resolved["first_reply_seconds"]) == ("ai_resolved", "4.0")
    assert resolved["contact_email"] == "'=cmd@example.com"  # never run as a formula
    assert resolved["freshchat_url"] == "https://acme.freshchat.com/x"
    assert resolved["resolved_at"].endswith("Z")
    assert (handed["outcome"], handed["handoff_reason"]) == ("handed_off",
                                                             "the customer asked for a human")
    assert still_open["outcome"] == "in_progress"
    assert list(rows[0]) == list(export.COLUMNS)


def test_filters_by_day_and_status(app, admin):
    add_sessions(app)
    today = utcnow().date().isoformat()
    rows = parse(admin.get(f"/sessions/export.csv?since={today}").get_data(as_text=True))
    assert {r["conversation_id"] for r in rows} == {"c-handed", "c-open-0"}
    rows = parse(admin.get("/sessions/export.csv?status=resolved").get_data(as_text=True))
    assert [r["conversation_id"] for r in rows] == ["c-resolved"]
    bad = admin.get("/sessions/export.csv?status=lost")
    assert bad.status_code == 400 and "unknown status" in bad.get_data(as_text=True)
    bad = admin.get("/sessions/export.csv?since=last-week")
    assert bad.status_code == 400 and "YYYY-MM-DD" in bad.get_data(as_text=True)


def test_the_shell_writes_the_same_csv(app, admin, runner):
    add_sessions(app)
    from_browser = admin.get("/sessions/export.csv").get_data(as_text=True)
    result = runner.invoke(args=["sessions", "export"])
    assert result.exit_code == 0
    assert result.output == from_browser
    result = runner.invoke(args=["sessions", "export", "--since", "tomorrow"])
    assert result.exit_code == 2 and "YYYY-MM-DD" in result.output


def test_rows_come_in_chunks_not_all_at_once(app):
    add_sessions(app, count=2 * export.BATCH + 5)
    with app.app_context():
        chunks = list(export.csv_chunks(export.rows(72.0)))
    assert len(chunks) == 3
    assert sum(chunk.count("\n") for chunk in chunks) == 2 * export.BATCH + 5 + 1


def test_a_viewer_may_export_but_nobody_signed_out(app, client):
    assert client.get("/sessions/export.csv").status_code in (302, 401)
