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
import uuid
from contextlib import closing
from pathlib import Path

from sqlalchemy.engine import make_url

SERVER_URL = os.environ.pop("OPENCX_DATABASE_URL", None)
ON_POSTGRESQL = bool(SERVER_URL) and make_url(SERVER_URL).get_backend_name() in (
    "postgresql", "postgres")
TEMPLATE_SUFFIX = "_template"
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
    name = _base_name() + TEMPLATE_SUFFIX
    with closing(_admin()) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
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


def _new_name() -> str:
    name = f"{_base_name()}_{uuid.uuid4().hex[:12]}"
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
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{make_url(template).database}"')
    return _url_for(name)


def drop(url: str) -> None:
    """Remove a test's database once its test is over (SQLite files go with tmp_path)."""
    if ON_POSTGRESQL:
        _drop(make_url(url).database)


def drop_all() -> None:
    """What tests made and did not drop themselves (bridge processes' databases)."""
    while _created:
        _drop(_created[-1])


def _drop(name: str) -> None:
    with closing(_admin()) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    if name in _created:
        _created.remove(name)
