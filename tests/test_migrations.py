"""The migrations are the schema: upgrading a fresh database gives exactly the models,
and every migration can be undone."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from opencx_bridge import create_app
from opencx_bridge.extensions import db


@pytest.fixture
def fresh_app(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENCX_INSTANCE_PATH", str(tmp_path / "instance"))
    app = create_app({"TESTING": True, "WORKER": False, "SECRET_KEY": "x",
                      "DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.sqlite3'}"})
    yield app
    with app.app_context():
        db.engine.dispose()


def schema_differences(app):
    migrate_config = app.extensions["migrate"].configure_args
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={
            "compare_type": True, "include_object": migrate_config.get("include_object")})
        return compare_metadata(context, db.metadata)


def test_a_migrated_database_matches_the_models(fresh_app):
    assert schema_differences(fresh_app) == []


def test_every_migration_can_be_undone_and_redone(fresh_app):
    with fresh_app.app_context():
        downgrade(revision="base")
        upgrade()
    assert schema_differences(fresh_app) == []


def test_the_migrations_since_the_redesign_apply_to_a_database_with_data(fresh_app):
    """Batch migrations rebuild tables that others reference (message → session): on a
    database with rows, SQLite's foreign-key check must not stop the rebuild half-way."""
    with fresh_app.app_context():
        downgrade(revision="0006_outbox_claimed_by")
        with db.engine.begin() as connection:
            connection.exec_driver_sql(
                "INSERT INTO session (id, conversation_id, routing_mode, status, awaiting_reply,"
                " created_at, updated_at) VALUES (1, 'c1', 'auto', 'open', 0,"
                " '2026-12-01 10:00:00', '2026-12-01 10:00:00')")
            connection.exec_driver_sql(
                "INSERT INTO message (session_id, author, text, created_at)"
                " VALUES (1, 'customer', 'hello', '2026-12-01 10:00:00')")
        upgrade()
        with db.engine.connect() as connection:
            assert connection.exec_driver_sql("SELECT count(*) FROM message").scalar() == 1
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1  # back on
        downgrade(revision="0006_outbox_claimed_by")
        upgrade()
    assert schema_differences(fresh_app) == []
