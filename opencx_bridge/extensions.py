"""Flask extensions, created unbound and initialised by create_app."""

from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from htmx_flask import Htmx
from sqlalchemy.orm import DeclarativeBase


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
# Where the app keeps its worker (threads, or the supervisor of the worker process): the
# intake wakes it through this key without importing the worker room.
WORKER = "opencx_worker"
