"""Where each test's database lives.

By default a SQLite file per test, copied from one that the real migrations built. When
OPENCX_DATABASE_URL names a PostgreSQL database (CI runs the suite a second time that way),
every test gets a database of its own on that server, cloned from a migrated template.
The variable is taken out of the environment here so that only these fixtures decide
which database an app or a bridge process under test uses.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
import uuid
from contextlib import closing
from pathlib import Path

from sqlalchemy.engine import make_url

SERVER_URL = os.environ.pop("OPENCX_DATABASE_URL", None)
ON_POSTGRESQL = bool(SERVER_URL) and make_url(SERVER_URL).get_backend_name() in (
    "postgresql", "postgres")
TEMPLATE_MARK = "template_"
_created: list[str] = []  # databases of this run, dropped at its end at the latest


def _admin():
    """An autocommit connection to the server's own database (CREATE DATABASE cannot run
    inside a transaction)."""
    import psycopg

    url = make_url(SERVER_URL)
    return psycopg.connect(host=url.host or "localhost", port=url.port or 5432,
                           user=url.username, password=url.password, dbname=url.database,
                           autocommit=True)


def _url_for(name: str) -> str:
    url = make_url(SERVER_URL).set(database=name)
    return url.render_as_string(hide_password=False)


def _base_name() -> str:
    return make_url(SERVER_URL).database


def template_url(folder: Path) -> str:
    """An empty database for the migrations to build the template in."""
    if not ON_POSTGRESQL:
        return f"sqlite:///{folder / 'template.sqlite3'}"
    name = _new_name(TEMPLATE_MARK)  # of this run only: runs may share a server
    with closing(_admin()) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    return _url_for(name)


def empty(folder: Path) -> str:
    """A database with no tables yet, for a bridge process to migrate on its first start."""
    if not ON_POSTGRESQL:
        return f"sqlite:///{folder / 'bridge.sqlite3'}"
    name = _new_name()
    with closing(_admin()) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    return _url_for(name)


def _new_name(mark: str = "") -> str:
    name = f"{_base_name()}_{mark}{uuid.uuid4().hex[:12]}"
    _created.append(name)
    return name


def clone(template: str, folder: Path) -> str:
    """A database of this test's own with the template's schema and rows."""
    if not ON_POSTGRESQL:
        path = folder / "bridge.sqlite3"
        shutil.copy(make_url(template).database, path)
        return f"sqlite:///{path}"
    name = _new_name()
    with closing(_admin()) as admin:
        # FILE_COPY (PostgreSQL 15+) copies the small template's files instead of logging
        # every page: ~12 instead of ~150 ms a test on CI's fsync-less cluster.
        strategy = " STRATEGY FILE_COPY" if admin.info.server_version >= 150000 else ""
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{make_url(template).database}"'
                      + strategy)
    return _url_for(name)


def drop(url: str) -> None:
    """Remove a test's database once its test is over (SQLite files go with tmp_path)."""
    if ON_POSTGRESQL:
        _drop(make_url(url).database)


def drop_all() -> None:
    """What tests made and did not drop themselves (bridge processes' databases)."""
    left = [name for name in list(_created) if not _drop(name)]
    if left:
        print(f"\ntest databases left on the server: {', '.join(left)}", file=sys.stderr)


def _drop(name: str) -> bool:
    """Drop, retrying briefly: FORCE cannot end a server process that is not ours (an
    autovacuum worker, say). What still cannot go waits for drop_all at the end."""
    import psycopg

    for attempt in range(5):
        try:
            with closing(_admin()) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        except psycopg.errors.InsufficientPrivilege:
            time.sleep(0.2 * (attempt + 1))
            continue
        if name in _created:
            _created.remove(name)
        return True
    return False
