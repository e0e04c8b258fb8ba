"""Bring the database to the newest schema on start (Alembic through Flask-Migrate)."""

from __future__ import annotations

import logging
from contextlib import contextmanager

from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import text

from opencx_bridge.extensions import db

log = logging.getLogger(__name__)
MIGRATION_LOCK = 7_236_001  # any fixed number: the advisory lock all bridge processes share


def upgrade_to_head(app: Flask) -> None:
    with app.app_context(), _one_process_at_a_time():
        # Alembic's env.py reconfigures logging; keep ours.
        level = logging.getLogger().level
        upgrade()
        logging.getLogger().setLevel(level)


@contextmanager
def _one_process_at_a_time():
    """Bridge processes starting together on one PostgreSQL database migrate in turn (the
    later ones then find nothing to do). SQLite's own write lock serialises the DDL."""
    if db.engine.dialect.name != "postgresql":
        yield
        return
    with db.engine.connect() as connection:
        connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK})
        try:
            yield
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK})
