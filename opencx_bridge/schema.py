"""Bring the database to the newest schema on start (Alembic through Flask-Migrate)."""

from __future__ import annotations

import logging

from flask import Flask
from flask_migrate import upgrade

log = logging.getLogger(__name__)


def upgrade_to_head(app: Flask) -> None:
    with app.app_context():
        # Alembic's env.py reconfigures logging; keep ours.
        level = logging.getLogger().level
        upgrade()
        logging.getLogger().setLevel(level)
