"""The inbox: sessions newest first with status, contact, last message, reason, age and
the Freshchat link; status filter, search, keyset pagination, the live partial."""

import re
from datetime import datetime, timedelta

import pytest
from dashboard_data import add_call, add_messages, add_searchable, add_session, page, table_rows

from opencx_bridge.store import session_list
from opencx_bridge.store.models import utcnow

CONVERSATION = "7d1f3a5c-2b4e-4f60-9a8b-c1d2e3f4a5b6"
URL = f"https://acme.freshchat.com/a/app-1/open/conversation/{CONVERSATION}"


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
    from opencx_bridge.store import users

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
    assert re.search(r'<a href="/\?status=handed_off" aria-current="page">Handed off '
                     r'<span class="count" data-count="handed_off">1</span></a>', html)


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




# what a row shows -------------------------------------------------------------------------

def test_a_row_shows_the_last_message_and_the_age(app, admin):
    talked = add_session(app, "conv-talk", created_at=utcnow() - timedelta(minutes=5))
    add_messages(app, talked, ("customer", "Where is my order?"), ("ai", "It ships today."))
    add_session(app, "conv-quiet", created_at=utcnow() - timedelta(hours=3))
    quiet, talk = table_rows(page(admin, "/"))
    assert '<span class="who">AI:</span> It ships today.' in talk
    assert "Where is my order" not in talk
    assert ">5 min ago</time>" in talk
    assert "no messages yet" in quiet and ">3 h ago</time>" in quiet
    assert "no link yet" in quiet


def test_a_long_message_is_cut_in_the_preview(app, admin):
    session_id = add_session(app, "conv-long")
    add_messages(app, session_id, ("customer", "word " * 100))
    [row] = table_rows(page(admin, "/"))
    assert "word " * 20 in row and "word " * 30 not in row


def test_private_notes_are_left_out_of_the_preview(app, admin):
    session_id = add_session(app, "conv-note")
    add_messages(app, session_id, ("customer", "I want a person"), ("note", "AI handoff: ..."))
    [row] = table_rows(page(admin, "/"))
    assert '<span class="who">Customer:</span> I want a person' in row
    assert "AI handoff" not in row


# search -----------------------------------------------------------------------------------

@pytest.fixture
def searchable(app):
    return add_searchable(app, CONVERSATION, URL)


def found(client, query: str) -> list[str]:
    rows = table_rows(page(client, f"/?q={query}"))
    return [re.search(r'href="/sessions/(\d+)"', row).group(1) for row in rows]


def test_search_by_conversation_id_finds_the_session_with_its_contacts_email(admin, searchable):
    html = page(admin, f"/?q={CONVERSATION}")
    [row] = table_rows(html)
    assert f'href="/sessions/{searchable["minji"]}"' in row
    assert "minji.kim@example.com" in row
    assert f'<a href="{URL}" target="_blank" rel="noopener">Open</a>' in row
    assert f'value="{CONVERSATION}"' in html  # the search box keeps the query


def test_search_by_session_id(admin, searchable):
    assert found(admin, str(searchable["sam"])) == [str(searchable["sam"])]


@pytest.mark.parametrize("query", ["sam@example.com", "SAM@Example.com", "sam@", "parcel",
                                  "PARCEL 100%"])
def test_search_by_email_or_message_text(admin, searchable, query):
    assert found(admin, query.replace("%", "%25")) == [str(searchable["sam"])]


def test_search_by_part_of_an_email_finds_every_match_newest_first(admin, searchable):
    assert found(admin, "example.com") == [str(searchable["sam"]), str(searchable["minji"])]


@pytest.mark.parametrize("query", ["%25%25", "_", "nobody@example.org"])
def test_wildcards_are_literal_and_a_miss_says_what_to_search_by(admin, searchable, query):
    html = page(admin, f"/?q={query}")
    assert table_rows(html) == []
    assert "No session matches" in html
    assert "contact email" in html
    assert '<a href="/">Show all sessions</a>' in html


def test_search_and_status_filter_combine(admin, searchable):
    assert found(admin, "example.com&status=handed_off") == [str(searchable["sam"])]
    html = page(admin, "/?q=canada&status=resolved")
    assert "No session matches “canada” with this status." in html


def test_the_status_links_keep_the_search(admin, searchable):
    html = page(admin, "/?q=canada")
    assert re.search(r'<a href="/\?status=open&amp;q=canada"\s*>AI handling <span', html)
    assert re.search(r'<a href="/\?q=canada" aria-current="page">All <span', html)


def test_message_text_is_searched_in_the_newest_messages_only(app, admin, searchable,
                                                             monkeypatch):
    monkeypatch.setattr(session_list, "MESSAGE_WINDOW", 1)  # only the newest message
    assert found(admin, "canada") == [str(searchable["anon"])]
    assert found(admin, "parcel") == []


# pagination -------------------------------------------------------------------------------

@pytest.fixture
def seven(app, monkeypatch):
    monkeypatch.setattr(session_list, "PAGE_SIZE", 3)
    return [add_session(app, f"conv-{n}", status="resolved" if n % 2 else "open")
            for n in range(1, 8)]


def ids_on(client, url: str) -> list[int]:
    return [int(n) for n in re.findall(r'<td data-label="Session"><a href="/sessions/(\d+)"',
                                       page(client, url))]


def test_older_pages_follow_by_key(admin, seven):
    html = page(admin, "/")
    assert ids_on(admin, "/") == [7, 6, 5]
    assert '<a href="/?before=5" rel="next">Older &rarr;</a>' in html
    assert "Newest" not in html
    second = page(admin, "/?before=5")
    assert ids_on(admin, "/?before=5") == [4, 3, 2]
    assert '<a href="/">&larr; Newest</a>' in second
    assert 'href="/?before=2"' in second
    last = page(admin, "/?before=2")
    assert ids_on(admin, "/?before=2") == [1]
    assert "Older" not in last


def test_a_full_last_page_has_no_older_link(app, admin, seven):
    assert ids_on(admin, "/?before=4") == [3, 2, 1]
    assert "Older" not in page(admin, "/?before=4")


def test_paging_keeps_the_filter_and_the_search(admin, seven):
    html = page(admin, "/?status=resolved")
    assert ids_on(admin, "/?status=resolved") == [7, 5, 3]
    assert 'href="/?status=resolved&amp;before=3"' in html
    assert ids_on(admin, "/?status=resolved&before=3") == [1]
    assert ids_on(admin, "/?q=conv-6") == [6]


def test_past_the_oldest_session_says_so(admin, seven):
    html = page(admin, "/?before=1")
    assert "No older sessions." in html
    assert '<a href="/">Back to the newest</a>' in html


@pytest.mark.parametrize("before", ["abc", "-1", "1e3", "99999999999999999999"])
def test_a_bad_before_is_a_bad_request(admin, before):
    html = page(admin, f"/?before={before}", status=400)
    assert "before must be a session id" in html


def test_an_empty_connected_inbox_says_what_to_do_next(admin, connected):
    html = page(admin, "/")
    assert "send a test message" in html
    assert "Message Created" in html


def test_the_inbox_links_to_each_session_page(app, admin):
    session_id = add_session(app, "conv-link")
    assert f'<a href="/sessions/{session_id}">#{session_id}</a>' in page(admin, "/")
    page(admin, f"/sessions/{session_id}")


def test_the_inbox_shows_failed_calls_nowhere_but_loads_with_them(app, admin):
    session_id = add_session(app, "conv-failed")
    add_call(app, "conv-failed", status="failed", last_error="boom")
    assert f'href="/sessions/{session_id}"' in page(admin, "/")
