"""The inbox stays fast and live: no OFFSET or COUNT over the sessions, index-ordered page
queries, and the htmx partial that polls itself (204 while nothing changed)."""

import re

import databases
import pytest
import statements
from dashboard_data import add_searchable, add_session, page, table_rows

from opencx_bridge.extensions import db
from opencx_bridge.store.models import ChatSession


@pytest.fixture
def searchable(app):
    return add_searchable(app, "conv-minji", "https://acme.freshchat.com/a/1/open/conversation/c")


# scale ------------------------------------------------------------------------------------

def statements_during(app, client, url: str) -> list[tuple[str, tuple]]:
    with statements.recorded(app) as seen:
        page(client, url)
    return [(sql, tuple(parameters or ())) for sql, parameters, _many in seen]


def offsets(statement: str, parameters: tuple) -> list:
    """The values bound to OFFSET placeholders (SQLAlchemy writes `LIMIT ? OFFSET ?`)."""
    marks = [m.start() for m in re.finditer(r"\?", statement)]
    return [parameters[i] for i, at in enumerate(marks)
            if statement[:at].rstrip().upper().endswith("OFFSET")]


@pytest.mark.parametrize("url", ["/", "/?status=open&before=5", "/?q=someone@example.com",
                                 "/inbox/rows?q=parcel"])
def test_no_offset_and_no_unbounded_count_over_the_sessions(app, admin, searchable, url):
    statements = statements_during(app, admin, url)
    for statement, parameters in statements:
        assert set(offsets(statement, parameters)) <= {0}, statement
        if "COUNT(" in statement.upper():  # the tab counts: over a LIMITed sub-query only
            assert re.search(r"count\(\*\) AS \w+\s+FROM \(SELECT .* LIMIT", statement,
                             re.I | re.S), statement
    assert any("FROM session" in s and "LIMIT" in s for s, _ in statements)


@pytest.mark.skipif(databases.ON_POSTGRESQL, reason="SQLite's query plans (test_query_plans)")
@pytest.mark.parametrize("status", [None, "open"])
def test_the_page_query_walks_an_index_without_sorting(app, status):
    with app.app_context():
        statement = (db.select(ChatSession).order_by(ChatSession.id.desc()).limit(51)
                     .where(ChatSession.id < 1000))
        if status:
            statement = statement.where(ChatSession.status == status)
        compiled = statement.compile(db.engine, compile_kwargs={"literal_binds": True})
        plan = " ".join(str(row) for row in db.session.execute(
            db.text(f"EXPLAIN QUERY PLAN {compiled}")))
    assert "TEMP B-TREE" not in plan, plan


# live -------------------------------------------------------------------------------------

def test_the_results_poll_themselves_with_htmx(admin, searchable):
    html = page(admin, "/?status=open&q=example")
    live = re.search(r'<div id="inbox-live"[^>]*>', html).group(0)
    assert 'hx-get="/inbox/rows?status=open&amp;q=example"' in live
    assert 'hx-trigger="every 3s"' in live
    assert 'hx-swap="innerHTML"' in live
    assert 'aria-live="polite"' in live
    assert 'hx-include="#inbox-seen"' in live
    assert re.search(r'<input type="hidden" id="inbox-seen" name="seen" value="\w{16}">', html)


def test_the_partial_is_the_results_only(admin, searchable):
    html = page(admin, "/inbox/rows")
    assert "<html" not in html and "<h1>" not in html
    assert len(table_rows(html)) == 3
    assert 'id="inbox-seen"' in html


def test_the_partial_answers_204_until_something_changes(app, admin, searchable):
    digest = re.search(r'id="inbox-seen" name="seen" value="(\w+)"', page(admin, "/")).group(1)
    assert admin.get(f"/inbox/rows?seen={digest}").status_code == 204
    fresh = add_session(app, "conv-new", email="new@example.com")
    html = page(admin, f"/inbox/rows?seen={digest}")
    assert f'href="/sessions/{fresh}"' in table_rows(html)[0]
    assert f'value="{digest}"' not in html


def test_a_status_change_shows_in_the_next_poll(app, admin, searchable):
    digest = re.search(r'id="inbox-seen" name="seen" value="(\w+)"', page(admin, "/")).group(1)
    with app.app_context():
        db.session.get(ChatSession, searchable["minji"]).status = "resolved"
        db.session.commit()
    html = page(admin, f"/inbox/rows?seen={digest}")
    assert '<span class="badge resolved">resolved</span>' in table_rows(html)[-1]


def test_the_partial_checks_its_arguments(admin):
    assert admin.get("/inbox/rows?status=bogus").status_code == 400


def test_the_partial_needs_a_login_and_asks_htmx_to_reload(app, client):
    from opencx_bridge.store import users

    with app.app_context():
        users.create("admin@example.com", "correct horse battery", "admin")
    assert client.get("/inbox/rows").status_code == 302
    polled = client.get("/inbox/rows", headers={"HX-Request": "true"})
    assert polled.status_code == 204
    assert polled.headers["HX-Refresh"] == "true"
