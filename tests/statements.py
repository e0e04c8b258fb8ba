"""What SQL an app runs: for tests that count statements or read their query plans."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event

from opencx_bridge.extensions import db


@contextmanager
def recorded(app) -> Iterator[list[tuple[str, object, bool]]]:
    """Every statement the app's engine runs inside the block: (sql, parameters,
    executemany), in order."""
    seen: list[tuple[str, object, bool]] = []
    with app.app_context():
        engine = db.engine

    def remember(conn, cursor, statement, parameters, context, executemany):
        seen.append((statement, parameters, executemany))

    event.listen(engine, "before_cursor_execute", remember)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", remember)
