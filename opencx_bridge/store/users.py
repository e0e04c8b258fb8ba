"""Dashboard accounts: create, check passwords, list, delete."""

from __future__ import annotations

from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from opencx_bridge.extensions import db
from opencx_bridge.store.models import User, utcnow
from opencx_bridge.store.writes import commits

ROLES = ("admin", "viewer")
MIN_PASSWORD = 10


class UserError(ValueError):
    pass


def count() -> int:
    return db.session.scalar(select(func.count()).select_from(User)) or 0


def find(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == email.strip().lower()))


def create(email: str, password: str, role: str) -> User:
    email = (email or "").strip().lower()
    if "@" not in email or len(email) < 3:
        raise UserError(f"{email!r} is not an email address")
    if role not in ROLES:
        raise UserError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    if len(password or "") < MIN_PASSWORD:
        raise UserError(f"password must be at least {MIN_PASSWORD} characters")
    if find(email):
        raise UserError(f"a user with the email {email} already exists")
    user = User(email=email, password_hash=generate_password_hash(password), role=role)
    db.session.add(user)
    db.session.commit()
    return user


def authenticate(email: str, password: str) -> User | None:
    user = find(email or "")
    if user is None:
        # Same work either way, so timing does not reveal which emails exist.
        check_password_hash(generate_password_hash("x"), password or "")
        return None
    if not check_password_hash(user.password_hash, password or ""):
        return None
    user.last_login_at = utcnow()
    db.session.commit()
    return user


def from_session(session_id: str) -> User | None:
    """The user a session cookie names ("id:version"), while that version is current."""
    user_id, _, version = session_id.partition(":")
    if not (user_id.isdigit() and version.isdigit()):
        return None  # a cookie from before session versions, or forged: sign in again
    user = db.session.get(User, int(user_id))
    return user if user is not None and user.session_version == int(version) else None


@commits
def end_sessions(user: User) -> None:
    """Every copy of the user's session cookie stops working (sign-out, a new password)."""
    user.session_version += 1


def all_users() -> list[User]:
    return list(db.session.scalars(select(User).order_by(User.email)))


def delete(email: str) -> None:
    user = find(email)
    if user is None:
        raise UserError(f"no user has the email {email}")
    if user.is_admin and _admin_count() == 1:
        raise UserError("cannot delete the last admin: create another admin first")
    db.session.delete(user)
    db.session.commit()


def _admin_count() -> int:
    query = select(func.count()).select_from(User).where(User.role == "admin")
    return db.session.scalar(query) or 0
