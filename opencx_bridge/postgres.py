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


@event.listens_for(Engine, "before_cursor_execute", retval=True)
def _strip_nul(connection, cursor, statement, parameters, context, executemany):
    if connection.dialect.name == "postgresql" and parameters:
        parameters = without_nul(parameters)
    return statement, parameters
