"""Leases: rows with a heartbeat that say which worker does what.

The "worker" lease names the one worker that runs the scheduler. On SQLite it also names
the only worker that works at all: two workers on one SQLite file would both answer the same
customer message, so any second worker (a `flask worker` next to a `serve` that runs its
own, say) waits on standby and takes over only when the holder stops, dies, or misses its
heartbeats. On PostgreSQL every worker works (claims are row locks there; see roles.py).
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from collections.abc import Callable

from sqlalchemy import insert, or_, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from .models import WorkerLease

NAME = "worker"
EXPIRES_AFTER = 30.0  # seconds without a heartbeat before another worker may take over
table = WorkerLease.__table__


def new_owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def holder_is_dead(owner: str) -> bool:
    """A holder on this machine whose process is gone can be replaced at once."""
    host, _, rest = owner.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


class Lease:
    def __init__(self, engine: Engine, owner: str | None = None,
                 clock: Callable[[], float] = time.time):
        self.engine, self.owner, self.clock = engine, owner or new_owner(), clock

    def acquire(self) -> bool:
        """Take or renew the lease; False while another live worker holds it."""
        now = self.clock()
        with self.engine.begin() as connection:
            renewed = connection.execute(
                update(table).where(table.c.name == NAME, or_(
                    table.c.owner == self.owner, table.c.heartbeat < now - EXPIRES_AFTER))
                .values(owner=self.owner, heartbeat=now)).rowcount
            if renewed:
                return True
            holder = connection.execute(self._holder_query()).scalar()
            if holder is not None and holder_is_dead(holder):
                return bool(connection.execute(
                    update(table).where(table.c.name == NAME, table.c.owner == holder)
                    .values(owner=self.owner, heartbeat=now)).rowcount)
        if holder is not None:
            return False
        try:
            with self.engine.begin() as connection:
                connection.execute(insert(table).values(name=NAME, owner=self.owner,
                                                        heartbeat=now))
            return True
        except IntegrityError:
            return False  # another worker created it first

    def holder(self) -> str | None:
        with self.engine.connect() as connection:
            return connection.execute(self._holder_query()).scalar()

    def _holder_query(self):
        return select(table.c.owner).where(table.c.name == NAME)

    def release(self) -> None:
        with self.engine.begin() as connection:
            connection.execute(update(table).where(table.c.name == NAME,
                                                   table.c.owner == self.owner)
                               .values(heartbeat=0.0))
