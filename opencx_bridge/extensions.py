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


migrate = Migrate(render_as_batch=True, compare_type=True)
csrf = CSRFProtect()
login_manager = LoginManager()
htmx = Htmx()
# Where the app keeps its worker (threads, or the supervisor of the worker process): the
# intake wakes it through this key without importing the worker room.
WORKER = "opencx_worker"
