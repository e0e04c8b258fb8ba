"""Which workers are alive on a PostgreSQL database, told by the database itself.

Each worker holds an advisory lock keyed by its owner id, on a connection of its own, for
as long as it runs. The lock goes with the connection: a process that exits, crashes or is
killed loses it at once, whatever the clocks of the machines say and however long its
threads are busy. So the scheduler can ask of any owner whether it still lives: when its
lock can be taken, it does not.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import NullPool

log = logging.getLogger(__name__)
NAMESPACE = 0x0C0B  # the first key of our advisory locks; the second is the owner's hash
HOLD = text("SELECT pg_advisory_lock(:namespace, :key)")
BACKEND = text("SELECT pg_backend_pid()")
PROBE = text("SELECT pg_try_advisory_xact_lock(:namespace, :key)")


def owner_key(owner: str) -> int:
    """A signed 32-bit key from the owner id (a clash among a few workers: ~1 in 10^9)."""
    return int.from_bytes(hashlib.sha256(owner.encode()).digest()[:4], "big", signed=True)


def _keys(owner: str) -> dict:
    return {"namespace": NAMESPACE, "key": owner_key(owner)}


class Member:
    def __init__(self, engine: Engine, owner: str):
        # A connection outside the pool: held for the worker's whole life.
        self._engine = create_engine(engine.url, poolclass=NullPool)
        self.owner = owner
        self._connection: Connection | None = None
        self._backend: int | None = None  # the server process that holds our lock

    def join(self) -> None:
        """Hold the lock. A heartbeat asks which server process serves the connection: a
        different one (the connection was replaced after a database restart) or an error
        means the lock is gone, so it is taken again."""
        if self._connection is not None:
            try:
                if self._connection.execute(BACKEND).scalar() == self._backend:
                    self._connection.commit()
                    return
                log.warning("the worker's membership connection was replaced; joining again")
            except Exception:  # noqa: BLE001 - any failure: the connection, and the lock, are gone
                log.warning("the worker's membership connection was lost; joining again")
            self._close()
        connection = self._engine.connect()
        connection.execute(HOLD, _keys(self.owner))
        self._backend = connection.execute(BACKEND).scalar()
        connection.commit()  # a session lock: it outlives the transaction
        self._connection = connection

    def leave(self) -> None:
        self._close()
        self._engine.dispose()

    def _close(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):  # closing a dead connection may fail too
                self._connection.close()
            self._connection = None


def gone(engine: Engine, owners: set[str]) -> set[str]:
    """Those of `owners` whose worker no longer holds its lock."""
    if not owners:
        return set()  # the scheduler asks every second; mostly nobody is sending
    with engine.begin() as connection:  # a probe that succeeds ends with this transaction
        return {owner for owner in owners
                if connection.execute(PROBE, _keys(owner)).scalar()}
