"""Core statements run on the DBAPI cursor store and read what the ORM would."""

from datetime import datetime

import pytest
from sqlalchemy import bindparam, or_, select
from sqlalchemy.exc import IntegrityError, OperationalError

from opencx_bridge import direct_sql, write_lock
from opencx_bridge.extensions import db
from opencx_bridge.models import DedupKey, Integration

_keys = DedupKey.__table__
INSERT_KEY = _keys.insert().values(key=bindparam("key"), seen_at=bindparam("seen_at"))
KEY_ONE = select(_keys.c.key).where(_keys.c.key == "one")  # a literal in the statement


@pytest.mark.parametrize("seen_at", [datetime(2026, 11, 24, 10, 0, 0),  # no microseconds
                                     datetime(2026, 11, 24, 10, 0, 0, 123456)])
def test_a_time_reads_back_through_the_orm_as_written(ctx, seen_at):
    with direct_sql.connect(db.engine) as connection:
        connection.execute(INSERT_KEY, {"key": "k", "seen_at": seen_at})
        connection.commit()
    assert db.session.scalar(select(DedupKey.seen_at)) == seen_at
    other = select(DedupKey.key).where(or_(DedupKey.seen_at > seen_at, DedupKey.seen_at < seen_at))
    assert db.session.scalar(other) is None  # SQL compares it as the ORM's: same stored form


def test_literals_in_a_statement_are_passed_along(ctx):
    with direct_sql.connect(db.engine) as connection:
        for key in ("one", "two"):
            connection.execute(INSERT_KEY, {"key": key, "seen_at": datetime(2026, 1, 1)})
        assert connection.first(KEY_ONE) == ("one",)
        assert connection.first(KEY_ONE.where(_keys.c.key == "two")) is None


def test_nothing_is_kept_unless_committed(ctx):
    with direct_sql.connect(db.engine) as connection:
        connection.execute(INSERT_KEY, {"key": "k", "seen_at": datetime(2026, 1, 1)})
    assert db.session.scalar(select(DedupKey)) is None


def test_a_database_error_comes_out_as_sqlalchemys_and_loses_only_its_transaction(ctx):
    row = {"key": "k", "seen_at": datetime(2026, 1, 1)}
    with direct_sql.connect(db.engine) as connection:
        connection.execute(INSERT_KEY, row)
        connection.commit()
    with pytest.raises(IntegrityError), direct_sql.connect(db.engine) as connection:
        connection.execute(INSERT_KEY, row)
    with direct_sql.connect(db.engine) as connection:  # the pool hands out a usable one
        connection.execute(INSERT_KEY, {**row, "key": "k2"})
        connection.commit()
    assert db.session.scalars(select(DedupKey.key).order_by(DedupKey.key)).all() == ["k", "k2"]


def test_a_nul_character_is_stored_as_each_database_can(ctx):
    update = (Integration.__table__.update().where(Integration.__table__.c.id == 1)
              .values(domain=bindparam("domain")))
    db.session.add(Integration(id=1))
    db.session.commit()
    with direct_sql.connect(db.engine) as connection:
        connection.execute(update, {"domain": "a\x00b"})
        connection.commit()
    kept = "a\ufffdb" if db.engine.dialect.name == "postgresql" else "a\x00b"
    assert db.session.scalar(select(Integration.domain)) == kept


def test_a_write_holds_the_bridges_sqlite_write_lock_until_the_commit(ctx):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite only: PostgreSQL has row locks, no write lock")
    lock = write_lock.lock_for(db.engine.url.database)
    with direct_sql.connect(db.engine) as connection:
        connection.execute(INSERT_KEY, {"key": "k", "seen_at": datetime(2026, 1, 1)})
        assert lock.locked()
        connection.commit()
        assert not lock.locked()


def test_a_database_that_cannot_be_reached_comes_out_as_sqlalchemys_error(ctx, monkeypatch):
    def down():
        raise db.engine.dialect.loaded_dbapi.OperationalError("server closed the connection")

    monkeypatch.setattr(db.engine, "raw_connection", down)
    with pytest.raises(OperationalError):
        direct_sql.Connection(db.engine)
