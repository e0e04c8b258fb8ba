"""The inbox (sessions, newest first, filtered by status) and a session's page."""

import re
from datetime import datetime
from html import escape

import pytest

from opencx_bridge.extensions import db
from opencx_bridge.models import ChatSession, Contact, Message, TimelineEntry

CONVERSATION = "7d1f3a5c-2b4e-4f60-9a8b-c1d2e3f4a5b6"
URL = f"https://acme.freshchat.com/a/app-1/open/conversation/{CONVERSATION}"


def add_session(app, conversation_id: str, status: str = "open", email: str | None = None,
                name: str | None = None, **fields) -> int:
    with app.app_context():
        contact = None
        if email or name:
            contact = Contact(email=email, name=name)
            db.session.add(contact)
            db.session.flush()
        row = ChatSession(conversation_id=conversation_id, routing_mode="auto", status=status,
                          contact_id=contact.id if contact else None, **fields)
        db.session.add(row)
        db.session.commit()
        return row.id


def page(client, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    return response.get_data(as_text=True)


def table_rows(html: str) -> list[str]:
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in html else ""
    return re.findall(r"<tr>(.*?)</tr>", body, flags=re.S)


@pytest.fixture
def three(app):
    """An open, a handed-off and a resolved conversation, started in that order."""
    return {
        "open": add_session(app, "conv-open", email="minji.kim@example.com", name="Minji Kim",
                            freshchat_url=URL, created_at=datetime(2026, 11, 24, 10, 0)),
        "handed_off": add_session(app, "conv-handed", status="handed_off",
                                  email="sam@example.com", handoff_reason="a rep wrote",
                                  created_at=datetime(2026, 11, 24, 11, 0)),
        "resolved": add_session(app, "conv-resolved", status="resolved",
                                created_at=datetime(2026, 11, 24, 12, 0)),
    }


# the inbox --------------------------------------------------------------------------------

def test_the_inbox_needs_a_login(app, client):
    from opencx_bridge import users

    with app.app_context():
        users.create("admin@example.com", "correct horse battery", "admin")
    response = client.get("/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_an_empty_inbox_says_not_connected_and_links_to_the_settings(admin):
    html = page(admin, "/")
    assert "Not connected to Freshchat yet" in html
    assert re.search(r'<a href="/settings/freshchat">Connect your workspace</a>', html)
    assert "No sessions yet." in html
    assert "<tbody>" not in html


def test_a_connected_empty_inbox_does_not_ask_to_connect(admin, connected):
    html = page(admin, "/")
    assert "Not connected to Freshchat yet" not in html
    assert "No sessions yet." in html


def test_sessions_are_listed_newest_first_with_status_contact_and_freshchat_link(admin, three):
    rows = table_rows(page(admin, "/"))
    assert len(rows) == 3
    resolved, handed, opened = rows
    assert f'href="/sessions/{three["resolved"]}"' in resolved
    assert f'href="/sessions/{three["handed_off"]}"' in handed
    assert f'href="/sessions/{three["open"]}"' in opened

    assert '<span class="badge resolved">resolved</span>' in resolved
    assert '<span class="badge handed_off">handed off</span>' in handed
    assert '<span class="badge open">AI handling</span>' in opened

    assert "minji.kim@example.com" in opened and "Minji Kim" in opened
    assert "sam@example.com" in handed and "a rep wrote" in handed
    assert "unknown" in resolved

    assert f'<a href="{URL}" target="_blank" rel="noopener">Open</a>' in opened
    assert "https://" not in handed and "https://" not in resolved
    assert "2026-11-24 10:00 UTC" in opened


def test_the_handed_off_filter_shows_only_handed_off_sessions(admin, three):
    html = page(admin, "/?status=handed_off")
    rows = table_rows(html)
    assert len(rows) == 1
    assert f'href="/sessions/{three["handed_off"]}"' in rows[0]
    assert re.search(r'<a href="/\?status=handed_off" aria-current="page">Handed off</a>', html)


@pytest.mark.parametrize("status", ["open", "resolved"])
def test_each_status_filter_shows_its_sessions(admin, three, status):
    rows = table_rows(page(admin, f"/?status={status}"))
    assert len(rows) == 1
    assert f'href="/sessions/{three[status]}"' in rows[0]


def test_a_filter_nobody_matches_says_so(app, admin):
    add_session(app, "conv-open")
    html = page(admin, "/?status=resolved")
    assert table_rows(html) == []
    assert "No sessions with this status yet." in html


def test_an_empty_status_means_all(admin, three):
    assert len(table_rows(page(admin, "/?status="))) == 3


@pytest.mark.parametrize("status", ["bogus", "closed", "OPEN", "<script>"])
def test_an_unknown_status_is_a_bad_request_page_not_a_crash(admin, three, status):
    html = page(admin, f"/?status={status}", status=400)
    assert "Bad request" in html
    assert "unknown status" in html
    assert "open, handed_off, resolved" in html
    assert "<script>" not in html.split("<main>", 1)[1]
    assert "Traceback" not in html


# a session's page -------------------------------------------------------------------------

@pytest.fixture
def conversation(app):
    session_id = add_session(app, CONVERSATION, status="handed_off",
                             email="minji.kim@example.com", name="Minji Kim",
                             freshchat_url=URL, assigned_agent_name="Rita Rep",
                             handoff_reason="a rep wrote")
    with app.app_context():
        for author, text in [("customer", "My order #1042 has not arrived yet."),
                             ("ai", "Sorry to hear that, checking now."),
                             ("agent", "Rita here, I will take it from here."),
                             ("customer", "<script>alert(1)</script>")]:
            db.session.add(Message(session_id=session_id, author=author, text=text))
        for minute, kind, summary in [(15, "event", "message_create received"),
                                      (16, "call", "reply sent (201)"),
                                      (17, "decision", "handed off: a rep wrote")]:
            db.session.add(TimelineEntry(conversation_id=CONVERSATION, kind=kind, summary=summary,
                                         at=datetime(2026, 11, 24, 10, minute, 5)))
        db.session.add(TimelineEntry(conversation_id="conv-other", kind="event",
                                     summary="someone else's event"))
        db.session.commit()
    return session_id


def assert_full_session_page(html: str, session_id: int) -> None:
    assert f"Session #{session_id}" in html
    assert '<span class="badge handed_off">handed_off</span>' in html
    assert f"<code>{CONVERSATION}</code>" in html
    assert f'<a href="{URL}" target="_blank" rel="noopener">Open in Freshchat</a>' in html
    assert "Minji Kim minji.kim@example.com" in html
    assert "assigned to Rita Rep" in html
    assert "a rep wrote" in html

    transcript = html.split("<h2>Transcript</h2>", 1)[1].split("</section>", 1)[0]
    said = re.findall(r'<p class="msg (\w+)"><span class="who">\w+</span> (.*?)</p>', transcript)
    assert said == [("customer", "My order #1042 has not arrived yet."),
                    ("ai", "Sorry to hear that, checking now."),
                    ("agent", "Rita here, I will take it from here."),
                    ("customer", escape("<script>alert(1)</script>", quote=True))]

    timeline = html.split("<h2>Timeline</h2>", 1)[1].split("</section>", 1)[0]
    entries = re.findall(r'<li class="(\w+)"><time>([\d:]+)</time> <span class="kind">\w+</span>'
                         r" (.*?)</li>", timeline)
    assert entries == [("event", "10:15:05", "message_create received"),
                       ("call", "10:16:05", "reply sent (201)"),
                       ("decision", "10:17:05", "handed off: a rep wrote")]
    assert "someone else" not in html


def test_a_session_page_by_id_shows_transcript_and_timeline(admin, conversation):
    assert_full_session_page(page(admin, f"/sessions/{conversation}"), conversation)


def test_a_session_page_by_conversation_id_shows_the_same(admin, conversation):
    by_conversation = page(admin, f"/sessions/{CONVERSATION}")
    assert_full_session_page(by_conversation, conversation)


def test_a_session_without_messages_contact_or_link(app, admin):
    session_id = add_session(app, "conv-bare")
    html = page(admin, f"/sessions/{session_id}")
    assert "No messages yet." in html
    assert "Open in Freshchat" not in html
    assert "<dd>unknown</dd>" in html
    assert "assigned to nobody" in html


def test_the_inbox_links_to_each_session_page(admin, conversation):
    html = page(admin, "/")
    assert f'<a href="/sessions/{conversation}">#{conversation}</a>' in html
    page(admin, f"/sessions/{conversation}")


@pytest.mark.parametrize("identifier", ["999", "no-such-conversation"])
def test_an_unknown_session_is_a_404_page(admin, conversation, identifier):
    html = page(admin, f"/sessions/{identifier}", status=404)
    assert "Not found" in html
    assert f"no session with id or conversation id {identifier}" in html
    assert '<a href="/">Back to the inbox</a>' in html


def test_a_session_page_needs_a_login(app, client, conversation):
    from opencx_bridge import users

    with app.app_context():
        users.create("admin@example.com", "correct horse battery", "admin")
    response = client.get(f"/sessions/{conversation}")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
