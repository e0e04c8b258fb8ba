"""What PostgreSQL needs that SQLite does not.

Its text columns cannot hold the NUL character, which a customer message, a form field or a
search may carry ("\\u0000" in JSON is valid). Rather than fail the statement (a parked
event, a 500), every string sent to PostgreSQL has NUL replaced with U+FFFD, the character
that says "something unreadable was here". SQLite keeps what it is given.
"""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.engine import Engine

NUL, REPLACEMENT = "\x00", "\ufffd"


def without_nul(value):
    """The value with NUL replaced in it, or in its strings when it is a collection."""
    if isinstance(value, str):
        return value.replace(NUL, REPLACEMENT) if NUL in value else value
    if isinstance(value, dict):
        return {key: without_nul(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(without_nul(item) for item in value)
    return value


def configure(engine: Engine) -> None:
    """Set up the app's PostgreSQL engine; other databases are left alone."""
    if engine.dialect.name == "postgresql":
        event.listen(engine, "before_cursor_execute", _strip_nul, retval=True)


def _strip_nul(connection, cursor, statement, parameters, context, executemany):
    if parameters:
        parameters = without_nul(parameters)
    return statement, parameters
