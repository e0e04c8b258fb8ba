"""Every query the worker, the intake and the inbox run uses an index: record the real SQL
of a realistic run, then ask SQLite for each statement's plan (EXPLAIN QUERY PLAN)."""

import re

import databases
import pytest
import statements
from flows import Flow
from sqlalchemy import text

from opencx_bridge.extensions import db

BIG_TABLES = ("event", "outbox_item", "timeline_entry", "message", "session", "dedup_key",
              "contact_user", "contact")


# SQLite's EXPLAIN QUERY PLAN; PostgreSQL's planner chooses by table statistics instead, and
# on a test's near-empty tables a sequential scan is its right choice.
pytestmark = pytest.mark.skipif(databases.ON_POSTGRESQL, reason="SQLite's query plans")


@pytest.fixture
def recorded(app, client, standin, connected, admin):
    with statements.recorded(app) as seen:
        flow = Flow(app, client, standin, connected)
        conversations = [flow.conversation(email=f"c{n}@example.com") for n in range(3)]
        for cid in conversations:
            flow.customer_says(cid, "where is my parcel?")
        flow.run()
        flow.customer_says(conversations[0], "where is my parcel?")  # a duplicate key path
        flow.run()
        for path in ("/", "/?status=open", f"/?q={conversations[1]}", "/?q=c2@example.com",
                     "/?q=parcel", f"/sessions/{conversations[0]}", "/inbox/rows"):
            admin.get(path)
    with app.app_context():
        engine = db.engine
    return engine, [(sql, parameters) for sql, parameters, many in seen
                    if sql.lstrip().upper().startswith("SELECT") and not many]


def full_scans(engine, statement, parameters) -> list[str]:
    with engine.connect() as connection:
        rows = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
    scans = []
    for row in rows:
        detail = row[-1]
        match = re.match(r"SCAN (\w+)(?! USING)", detail)
        if match and match.group(1) in BIG_TABLES and "USING" not in detail \
                and not _walks_primary_key(statement, match.group(1)):
            scans.append(detail)
    return scans


def _walks_primary_key(statement: str, table: str) -> bool:
    """`ORDER BY t.id [DESC] LIMIT n` reads n rows along the primary key: not a full scan."""
    return re.search(rf"ORDER BY {table}\.id( DESC)?\s+LIMIT", statement) is not None


def test_no_query_scans_a_large_table_without_an_index(recorded):
    engine, statements = recorded
    assert len(statements) > 50
    offenders = {}
    for statement, parameters in statements:
        scans = full_scans(engine, statement, parameters)
        if scans:
            offenders[" ".join(statement.split())[-400:]] = scans
    assert offenders == {}


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(app):
    with app.app_context():
        assert db.session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert db.session.execute(text("PRAGMA busy_timeout")).scalar() == 5000
        assert db.session.execute(text("PRAGMA synchronous")).scalar() == 1  # NORMAL
