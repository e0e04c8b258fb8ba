"""The Diagnostics page (the doctor's checks in a table) and the Dedup page's numbers."""

import re
from datetime import timedelta
from html import escape

from conftest import connect_args, csrf_token

from opencx_bridge.extensions import db
from opencx_bridge.scheduler import freshchat_check
from opencx_bridge.scheduler.prune import prune_dedup_keys
from opencx_bridge.store.models import DedupKey, Event, TimelineEntry, utcnow

CHECK_IDS = ["credentials", "default_agent", "agent_name", "webhook_traffic",
             "resolution_events", "stale_webhook_url", "refused_webhooks", "routing", "token",
             "delivery_backlog", "processing_backlog", "failed_events", "stranded", "embeddings"]


def worker_asks(app):
    """What the worker does every FRESHCHAT_CHECK_EVERY_SECONDS."""
    with app.app_context():
        freshchat_check.refresh()


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return response.get_data(as_text=True)


def rows(html: str) -> dict[str, str]:
    """{check id: its table row}."""
    return dict(re.findall(r'<tr id="check-([a-z_]+)"[^>]*>(.*?)</tr>', html, flags=re.S))


def badge(row: str) -> str:
    return re.search(r'<span class="badge (ok|warn|fail)">\1</span>', row)[1]


def test_the_pages_need_a_login(client):
    for url in ("/diagnostics", "/dedup"):
        response = client.get(url)
        assert response.status_code == 302
        assert response.headers["Location"].startswith(("/login", "/setup"))


def test_each_check_is_a_row_with_a_badge_and_its_fix(app, admin, standin, connected):
    worker_asks(app)
    html = page(admin, "/diagnostics")
    found = rows(html)
    assert list(found) == CHECK_IDS
    assert {key: badge(row) for key, row in found.items()} == {
        **dict.fromkeys(CHECK_IDS, "ok"), "webhook_traffic": "warn"}
    assert "no webhook has arrived yet" in found["webhook_traffic"]
    assert "tick Message Created" in found["webhook_traffic"]
    assert "Test &amp; Save passes when asked 0 s ago" in found["credentials"]
    assert "Run again" in html and 'href="/dedup"' in html
    assert 'href="/diagnostics"' in html  # the nav link
    assert standin.token not in html


def test_one_asking_calls_freshchat_twice_however_many_agents(app, admin, runner, standin,
                                                              connected):
    for number in range(120):
        standin.add_agent(f"rep{number}@acme.test", "Rep", str(number))
    late = standin.add_agent("late@acme.test", "Lena", "Late")  # on the second /agents page
    assert runner.invoke(args=connect_args(standin, **{"--agent-email": "late@acme.test"})
                         ).exit_code == 0
    before = len(standin.calls)
    worker_asks(app)
    calls = [(c["method"], c["path"]) for c in standin.calls[before:]]
    # before: Test & Save's walk (configuration, both /agents pages) and then the agent by id
    # on a second client, 4 calls; now the agent by id and the configuration, on one client
    assert calls == [("GET", f"/v2/agents/{late['id']}"), ("GET", "/v2/accounts/configuration")]
    found = rows(page(admin, "/diagnostics"))
    assert len(standin.calls) == before + 2  # the page itself asks Freshchat nothing
    assert "Test &amp; Save passes when asked" in found["credentials"]
    assert "late@acme.test is an active Freshchat agent" in found["default_agent"]


def test_a_deleted_agent_shows_as_a_failing_row(app, admin, standin, connected):
    standin.delete_agent(standin.ai_agent["id"])
    worker_asks(app)
    found = rows(page(admin, "/diagnostics"))
    assert badge(found["default_agent"]) == "fail"
    assert "handoff notes would go missing" in found["default_agent"]
    assert escape("Admin Settings → Team") in found["default_agent"]


def test_before_the_worker_asked_the_page_says_so(admin, standin, connected):
    before = len(standin.calls)
    found = rows(page(admin, "/diagnostics"))
    assert len(standin.calls) == before
    assert badge(found["credentials"]) == "warn"
    assert "not checked yet" in found["credentials"]


def test_a_new_test_and_save_makes_the_last_answer_moot(app, admin, runner, standin,
                                                         connected):
    worker_asks(app)
    standin.delete_agent(standin.ai_agent["id"])
    worker_asks(app)
    other = standin.add_agent("other@acme.test", "Otto", "Other")
    assert runner.invoke(args=connect_args(standin, **{"--agent-email": other["email"]})
                         ).exit_code == 0
    found = rows(page(admin, "/diagnostics"))
    assert "not checked yet" in found["default_agent"]


def test_ask_freshchat_now_waits_behind_no_customer(app, admin, standin, connected):
    html = page(admin, "/diagnostics")
    with app.app_context():
        db.session.add(Event(action="message_create", conversation_id="c1", dedup_key="k1",
                             payload="{}", received_at=utcnow() - timedelta(minutes=3)))
        db.session.commit()
    before = len(standin.calls)
    response = admin.post("/diagnostics/ask-freshchat", data={"csrf_token": csrf_token(html)},
                          follow_redirects=True)
    text = response.get_data(as_text=True)
    assert "Not asked: customers" in text and len(standin.calls) == before
    found = rows(text)
    assert badge(found["processing_backlog"]) == "warn"
    assert "1 event(s) of 1 conversation(s) waiting" in found["processing_backlog"]
    assert "none processed in the last 5 minutes" in found["processing_backlog"]
    with app.app_context():
        db.session.execute(db.delete(Event))
        db.session.commit()
    response = admin.post("/diagnostics/ask-freshchat", data={"csrf_token": csrf_token(html)},
                          follow_redirects=True)
    assert "Freshchat asked just now" in response.get_data(as_text=True)
    assert len(standin.calls) == before + 2


def test_not_connected_says_so(admin):
    html = page(admin, "/diagnostics")
    found = rows(html)
    assert badge(found["credentials"]) == "fail"
    assert "not connected: run Test &amp; Save" in found["credentials"]
    assert "At least one check fails" in html


def test_the_dedup_page_shows_the_numbers(app, admin):
    now = utcnow()
    with app.app_context():
        for key, hours in (("a", 1), ("b", 2), ("c", 23), ("d", 30)):
            db.session.add(DedupKey(key=key, seen_at=now - timedelta(hours=hours)))
        for hours in (0.5, 3, 26):
            db.session.add(TimelineEntry(conversation_id="c1", kind="duplicate",
                                         summary="duplicate message_create dropped",
                                         at=now - timedelta(hours=hours)))
        db.session.commit()
    html = page(admin, "/dedup")
    assert _value(html, "keys-in-window") == "3"
    assert _value(html, "keys-total").startswith("4")
    assert _value(html, "duplicates-24h") == "2"
    assert "(1 d ago)" in _value(html, "oldest-key")
    assert _value(html, "last-prune").startswith("never")
    with app.app_context():
        prune_dedup_keys()
    html = page(admin, "/dedup")
    assert _value(html, "keys-total") == "3"
    assert _value(html, "last-prune").endswith("1 key(s) removed")
    assert "redelivers webhooks" in html


def test_an_empty_dedup_page(admin):
    html = page(admin, "/dedup")
    assert _value(html, "keys-in-window") == "0"
    assert _value(html, "oldest-key") == "none yet"


def _value(html: str, element_id: str) -> str:
    match = re.search(rf'<dd id="{element_id}">(.*?)</dd>', html, flags=re.S)
    assert match, element_id
    return " ".join(re.sub(r"<[^>]+>", "", match[1]).split())
