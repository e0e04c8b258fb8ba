"""A session's page: transcript, timeline with its facts, Freshchat calls, the live partial
and the support bundle (the actions: test_web_session_actions.py)."""

import json
import re
from datetime import datetime, timedelta
from html import escape

import pytest
import statements
from dashboard_data import (
    add_call,
    add_entry,
    add_messages,
    add_session,
    page,
    section,
    timeline_items,
)
from sqlalchemy import update

from opencx_bridge.extensions import db
from opencx_bridge.store import users
from opencx_bridge.store.models import ChatSession, Contact, OutboxItem
from opencx_bridge.web import session_page

CONVERSATION = "7d1f3a5c-2b4e-4f60-9a8b-c1d2e3f4a5b6"
URL = f"https://acme.freshchat.com/a/app-1/open/conversation/{CONVERSATION}"
NOTE = "AI handoff: the AI stepped aside.\nReason: low confidence"


@pytest.fixture
def conversation(app):
    session_id = add_session(app, CONVERSATION, status="handed_off",
                             email="minji.kim@example.com", name="Minji Kim",
                             freshchat_url=URL, assigned_agent_name="Rita Rep",
                             handoff_reason="a rep wrote")
    add_messages(app, session_id, ("customer", "My order #1042 has not arrived yet."),
                 ("ai", "Sorry to hear that, checking now."),
                 ("note", NOTE),
                 ("agent", "Rita here, I will take it from here."),
                 ("customer", "<script>alert(1)</script>"))
    at = datetime(2026, 11, 24, 10, 15, 5)
    add_entry(app, CONVERSATION, "event", "message_create received",
              {"dedup_key": "message:m1", "retry_count": None}, at=at)
    add_entry(app, CONVERSATION, "duplicate", "duplicate message_create dropped",
              {"dedup_key": "message:m1", "retry_count": 2}, at=at.replace(second=6))
    add_entry(app, CONVERSATION, "decision", "AI answers (confidence 0.82, topic shipping)",
              {"confidence": 0.82, "topic": "shipping"}, at=at.replace(minute=16))
    add_entry(app, CONVERSATION, "call", "POST /conversations/x/messages → 201 in 85 ms",
              {"method": "POST", "status": 201, "latency_ms": 84.6, "error": None},
              at=at.replace(minute=16, second=30))
    add_entry(app, CONVERSATION, "call", "PUT /conversations/x → no answer in 10000 ms: timeout",
              {"method": "PUT", "status": None, "latency_ms": 10000.0, "error": "timed out"},
              at=at.replace(minute=17))
    add_entry(app, CONVERSATION, "decision", "handoff: a rep wrote",
              {"reason": "a rep wrote", "sentiment": "negative (-0.52)"},
              at=at.replace(minute=18))
    add_entry(app, "conv-other", "event", "someone else's event")
    return session_id


def assert_full_session_page(html: str, session_id: int) -> None:
    assert f"Session #{session_id}" in html
    assert '<span class="badge handed_off">handed off</span>' in html
    assert f"<code>{CONVERSATION}</code>" in html
    assert f'<a href="{URL}" target="_blank" rel="noopener">Open in Freshchat</a>' in html
    assert "Minji Kim minji.kim@example.com" in html
    assert "assigned to Rita Rep" in html
    assert "a rep wrote" in html
    said = re.findall(r'<li class="msg (\w+)"><span class="who">([^<]+)</span>.*?'
                      r'<p class="text">(.*?)</p>', section(html, "transcript-title"), flags=re.S)
    assert said == [("customer", "Customer", "My order #1042 has not arrived yet."),
                    ("ai", "AI", "Sorry to hear that, checking now."),
                    ("note", "Private note", NOTE),
                    ("agent", "Agent", "Rita here, I will take it from here."),
                    ("customer", "Customer", escape("<script>alert(1)</script>", quote=True))]
    assert "someone else" not in html


def test_a_session_page_by_id_shows_transcript_and_timeline(admin, conversation):
    assert_full_session_page(page(admin, f"/sessions/{conversation}"), conversation)


def test_a_session_page_by_conversation_id_shows_the_same(admin, conversation):
    assert_full_session_page(page(admin, f"/sessions/{CONVERSATION}"), conversation)


def test_the_timeline_shows_dedup_results_decisions_and_calls(admin, conversation):
    items = timeline_items(page(admin, f"/sessions/{conversation}"))
    assert items == [
        ("event", "10:15:05", "message_create received", ["dedup new"]),
        ("duplicate", "10:15:06", "duplicate message_create dropped",
         ["dedup duplicate, dropped", "retry 2"]),
        ("decision", "10:16:05", "AI answers (confidence 0.82, topic shipping)",
         ["confidence 0.82", "topic shipping"]),
        ("call", "10:16:30", "POST /conversations/x/messages → 201 in 85 ms",
         ["status 201", "latency 85 ms"]),
        ("call", "10:17:05", "PUT /conversations/x → no answer in 10000 ms: timeout",
         ["status no answer", "latency 10000 ms", "error timed out"]),
        ("decision", "10:18:05", "handoff: a rep wrote", ["sentiment negative (-0.52)"]),
    ]


def test_a_session_without_messages_contact_link_or_calls(app, admin):
    session_id = add_session(app, "conv-bare")
    html = page(admin, f"/sessions/{session_id}")
    assert "No messages yet." in html
    assert "Open in Freshchat" not in html
    assert "<dd>unknown</dd>" in html
    assert "assigned to nobody" in html
    assert "Nothing yet: webhooks, decisions and Freshchat calls appear here." in html
    assert "No Freshchat calls yet" in html


@pytest.mark.parametrize("identifier", ["999", "no-such-conversation"])
def test_an_unknown_session_is_a_404_page(admin, conversation, identifier):
    for suffix in ("", "/live", "/bundle.json"):
        html = page(admin, f"/sessions/{identifier}{suffix}", status=404)
        assert f"no session with id or conversation id {identifier}" in html
    assert '<a href="/">Back to the inbox</a>' in page(admin, f"/sessions/{identifier}", 404)


@pytest.mark.parametrize("suffix", ["", "/live", "/bundle.json"])
def test_session_pages_need_a_login(app, client, conversation, suffix):
    with app.app_context():
        users.create("admin@example.com", "correct horse battery", "admin")
    response = client.get(f"/sessions/{conversation}{suffix}")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


# calls ------------------------------------------------------------------------------------

def test_the_conversations_calls_are_listed_with_status_attempts_and_error(app, admin,
                                                                          conversation):
    sent = add_call(app, CONVERSATION, "reply", "sent", attempts=1, last_status=201,
                    latency_ms=84.6)
    failed = add_call(app, CONVERSATION, "resolve", "failed", attempts=3, last_status=400,
                      last_error="conversation is closed")
    add_call(app, "conv-other", "note", "failed", last_error="not ours")
    calls = section(page(admin, f"/sessions/{conversation}"), "calls-title")
    assert calls.index(f"#{failed}") < calls.index(f"#{sent}")  # newest first
    assert '<span class="badge call-failed">failed</span>' in calls
    assert "conversation is closed" in calls and "not ours" not in calls
    assert "201 · 85 ms" in calls
    assert f'action="/sessions/{conversation}/calls/{failed}/retry"' in calls
    assert f"/calls/{sent}/retry" not in calls


# live -------------------------------------------------------------------------------------

def digest_of(html: str) -> str:
    return re.search(r'id="session-seen" name="seen" value="(\w+)"', html).group(1)


def test_the_page_polls_its_live_part(admin, conversation):
    html = page(admin, f"/sessions/{conversation}")
    live = re.search(r'<div id="session-live"[^>]*>', html).group(0)
    assert f'hx-get="/sessions/{conversation}/live"' in live
    assert 'hx-trigger="every 3s"' in live and 'hx-swap="innerHTML"' in live
    assert 'aria-live="polite"' in live and 'hx-include="#session-seen"' in live


def test_the_live_part_is_204_until_something_happens(app, admin, conversation):
    digest = digest_of(page(admin, f"/sessions/{conversation}"))
    assert admin.get(f"/sessions/{conversation}/live?seen={digest}").status_code == 204
    assert digest_of(page(admin, f"/sessions/{conversation}/live")) == digest  # CSRF aside
    add_messages(app, conversation, ("customer", "Any news?"))
    html = page(admin, f"/sessions/{conversation}/live?seen={digest}")
    assert "<html" not in html
    assert "Any news?" in section(html, "transcript-title")
    assert digest_of(html) != digest


def statements_during(app, client, url: str) -> tuple[int, list[str]]:
    with statements.recorded(app) as seen:
        status = client.get(url).status_code
    return status, [sql for sql, _parameters, _many in seen]


def test_an_idle_poll_reads_markers_not_the_transcript_timeline_or_calls(app, admin,
                                                                         conversation):
    for n in range(40):
        add_messages(app, conversation, ("customer", f"line {n}"))
        add_entry(app, CONVERSATION, "event", f"event {n}")
        add_call(app, CONVERSATION, "reply", "sent", attempts=1)
    digest = digest_of(page(admin, f"/sessions/{conversation}"))
    status, statements = statements_during(app, admin,
                                           f"/sessions/{conversation}/live?seen={digest}")
    assert status == 204
    loaded = [s for s in statements for column in ("message.text", "timeline_entry.summary",
                                                   "outbox_item.body") if column in s]
    assert loaded == []  # before: the whole transcript, 300 entries and 100 calls, each poll
    assert len(statements) == 6  # user, session, contact, connection, logs, calls


def set_call(app, call_id: int, **values):
    with app.app_context():
        db.session.execute(update(OutboxItem).where(OutboxItem.id == call_id).values(**values))
        db.session.commit()


def set_session(app, session_id: int, **values):
    with app.app_context():
        db.session.execute(update(ChatSession).where(ChatSession.id == session_id)
                           .values(**values))
        db.session.commit()


def rename_contact(app, session_id: int, name: str):
    with app.app_context():
        row = db.session.get(ChatSession, session_id)
        db.session.get(Contact, row.contact_id).name = name
        db.session.commit()


CHANGES = {  # what changes → (how, what the fresh live part then shows)
    "a call is sent": (lambda app, sid, call: set_call(
        app, call, status="sent", attempts=1, last_status=201, latency_ms=42.0),
        "call-sent"),
    "a call is claimed": (lambda app, sid, call: set_call(
        app, call, status="sending", attempts=1), "call-sending"),
    "a call fails": (lambda app, sid, call: set_call(
        app, call, status="failed", attempts=1, last_error="closed"), "closed"),
    "a call is tried again, still pending": (lambda app, sid, call: set_call(
        app, call, attempts=1, last_status=503, last_error="busy"), "busy"),
    "a timeline entry": (lambda app, sid, call: add_entry(
        app, CONVERSATION, "decision", "AI answers again"), "AI answers again"),
    "a message": (lambda app, sid, call: add_messages(
        app, sid, ("customer", "still there?")), "still there?"),
    "the status": (lambda app, sid, call: set_session(app, sid, status="resolved"),
                   '<span class="badge resolved">'),
    "the assignee": (lambda app, sid, call: set_session(
        app, sid, assigned_agent_name="Ola Other"), "assigned to Ola Other"),
    "the contact": (lambda app, sid, call: rename_contact(app, sid, "Minji Park"),
                    "Minji Park"),
}


@pytest.mark.parametrize("change", CHANGES)
def test_the_live_part_comes_back_when_anything_it_shows_changes(app, admin, conversation,
                                                                  change):
    call = add_call(app, CONVERSATION, "reply", "pending")
    digest = digest_of(page(admin, f"/sessions/{conversation}"))
    assert admin.get(f"/sessions/{conversation}/live?seen={digest}").status_code == 204
    how, shown = CHANGES[change]
    how(app, conversation, call)
    html = page(admin, f"/sessions/{conversation}/live?seen={digest}")
    assert shown in html
    assert digest_of(html) != digest
    assert admin.get(f"/sessions/{conversation}/live?seen={digest_of(html)}").status_code == 204


def test_the_live_part_comes_back_when_started_ago_turns_a_minute(app, admin, conversation,
                                                                   monkeypatch):
    digest = digest_of(page(admin, f"/sessions/{conversation}"))
    with app.app_context():
        started = db.session.get(ChatSession, conversation).created_at
    monkeypatch.setattr(session_page, "utcnow", lambda: started + timedelta(minutes=5))
    html = page(admin, f"/sessions/{conversation}/live?seen={digest}")
    assert "(5 min ago)" in html and digest_of(html) != digest


# support bundle ---------------------------------------------------------------------------

def test_the_copy_button_and_the_download_link(admin, conversation):
    html = page(admin, f"/sessions/{conversation}")
    assert re.search(rf'<button type="button"[^>]*data-copy-url="/sessions/{conversation}/'
                     r'bundle.json"[^>]*>Copy support bundle</button>', html, flags=re.S)
    assert f'href="/sessions/{conversation}/bundle.json" download' in html
    assert re.search(r"<script>(?!</script>)", html) is None  # no inline script
    assert " onclick=" not in html


def test_the_bundle_has_ids_link_status_contact_and_timeline(app, admin, conversation):
    add_call(app, CONVERSATION, "resolve", "failed", attempts=2, last_error="closed")
    response = admin.get(f"/sessions/{conversation}/bundle.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="opencx-session-{conversation}-bundle.json"')
    bundle = json.loads(response.get_data(as_text=True))
    assert bundle["session_id"] == conversation
    assert bundle["conversation_id"] == CONVERSATION
    assert bundle["freshchat_url"] == URL
    assert bundle["status"] == "handed_off"
    assert bundle["contact"]["email"] == "minji.kim@example.com"
    assert [e["kind"] for e in bundle["timeline"]] == [
        "event", "duplicate", "decision", "call", "call", "decision"]
    assert bundle["timeline"][3]["detail"]["status"] == 201
    assert bundle["freshchat_calls"][0]["last_error"] == "closed"
    assert "My order #1042" not in response.get_data(as_text=True)  # no transcript
