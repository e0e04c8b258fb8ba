"""Core statements run straight on a pooled DBAPI connection: for the intake's hot path.

SQLAlchemy's execution path costs about 40 µs a statement and its ORM session as much again
per transaction; the intake's statements themselves take a few µs each on SQLite. So the
intake writes its statements in Core as everywhere else (names, quoting and dialect
differences stay SQLAlchemy's), has each compiled once per dialect, and runs the result on
the DBAPI cursor. Values go through the columns' own bind processors, so what is stored is
exactly what the ORM would store; DBAPI errors come out as SQLAlchemy's exceptions, so
callers catch SQLAlchemyError as anywhere else. SQLAlchemy's cursor events do not run here
(PostgreSQL's NUL rule is applied by hand). Only INSERT, UPDATE and SELECT of plain values.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import ClauseElement

from .postgres import without_nul


class Compiled:
    """One statement compiled for one dialect: its SQL and how to lay out its values."""

    def __init__(self, statement: ClauseElement, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        self.sql = str(compiled)
        self.positions = compiled.positiontup  # None for named parameter styles
        self.fixed = {name: bind.effective_value for name, bind in compiled.binds.items()
                      if not bind.required}  # literals written into the statement
        self.processors = {}
        for name, bind in compiled.binds.items():
            process = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if process is not None:
                self.processors[name] = process

    def parameters(self, values: dict[str, Any]):
        merged = {**self.fixed, **values}
        for name, process in self.processors.items():
            merged[name] = process(merged[name])
        if self.positions is None:
            return merged
        return tuple(merged[name] for name in self.positions)


_compiled: dict[tuple[ClauseElement, type, str], Compiled] = {}


def compiled_for(statement: ClauseElement, dialect: Dialect) -> Compiled:
    key = (statement, type(dialect), dialect.paramstyle)
    found = _compiled.get(key)
    if found is None:
        found = _compiled[key] = Compiled(statement, dialect)
    return found


class Connection:
    """A DBAPI connection from the engine's pool; nothing is committed unless asked."""

    def __init__(self, engine: Engine) -> None:
        self.dialect = engine.dialect
        self._errors = self.dialect.loaded_dbapi.Error
        try:
            self._raw = engine.raw_connection()  # the pool passes driver errors through
        except self._errors as exc:
            raise DBAPIError.instance(None, None, exc, self._errors,
                                      dialect=self.dialect) from exc
        self._nul_free = self.dialect.name == "postgresql"

    def execute(self, statement: ClauseElement, values: dict[str, Any] | None = None) -> int:
        """Run it; the number of rows it changed."""
        with self._run(statement, values) as cursor:
            return cursor.rowcount

    def first(self, statement: ClauseElement, values: dict[str, Any] | None = None):
        """Run it; its first row as a tuple, or None."""
        with self._run(statement, values) as cursor:
            return cursor.fetchone()

    def commit(self) -> None:
        try:
            self._raw.commit()
        except self._errors as exc:
            raise self._translated(exc, "COMMIT", (), None) from exc

    def rollback(self) -> None:
        try:
            self._raw.rollback()
        except self._errors as exc:
            raise self._translated(exc, "ROLLBACK", (), None) from exc

    def close(self) -> None:
        """Back to the pool, which rolls back whatever was not committed."""
        self._raw.close()

    @contextmanager
    def _run(self, statement: ClauseElement, values: dict[str, Any] | None):
        compiled = compiled_for(statement, self.dialect)
        parameters = compiled.parameters(values or {})
        if self._nul_free:
            parameters = without_nul(parameters)
        cursor = self._raw.cursor()
        try:
            try:
                cursor.execute(compiled.sql, parameters)
            except self._errors as exc:
                raise self._translated(exc, compiled.sql, parameters, cursor) from exc
            yield cursor
        finally:
            cursor.close()

    def _translated(self, exc: Exception, sql: str, parameters, cursor) -> DBAPIError:
        if self.dialect.is_disconnect(exc, self._raw.dbapi_connection, cursor):
            self._raw.invalidate(exc)  # the pool opens a new one next time
        return DBAPIError.instance(sql, parameters, exc, self._errors, dialect=self.dialect)


@contextmanager
def connect(engine: Engine) -> Iterator[Connection]:
    connection = Connection(engine)
    try:
        yield connection
    finally:
        connection.close()
