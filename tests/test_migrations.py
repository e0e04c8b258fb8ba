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
