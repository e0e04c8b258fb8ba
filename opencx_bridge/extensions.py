"""Flask extensions, created unbound and initialised by create_app."""

import sqlite3

from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from htmx_flask import Htmx
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase

from . import wal, write_lock


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)
def _include_object(obj, name, type_, reflected, compare_to) -> bool:
    """Autogenerate must not drop the FTS5 index tables that a migration made by hand."""
    return not (type_ == "table" and reflected and str(name).startswith("article_fts"))


migrate = Migrate(render_as_batch=True, compare_type=True, include_object=_include_object)
csrf = CSRFProtect()
login_manager = LoginManager()
htmx = Htmx()


event.listen(Engine, "do_connect", write_lock.use_for_sqlite)


@event.listens_for(Engine, "connect")
def _tune_sqlite(dbapi_connection, _record) -> None:
    """WAL lets the worker write while the dashboard reads; busy_timeout rides out contention."""
    if isinstance(dbapi_connection, sqlite3.Connection):  # write_lock's subclass included
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA wal_autocheckpoint={wal.BACKSTOP_PAGES}")  # see wal.py
        cursor.execute(f"PRAGMA journal_size_limit={wal.SIZE_LIMIT_BYTES}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()
