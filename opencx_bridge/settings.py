"""Runtime settings stored in the database, with an audit trail of every change.

The keys, defaults and validation live in setting_specs.py.
"""

from __future__ import annotations

import json

from sqlalchemy import select

from . import secrets_box
from .extensions import db
from .models import Setting, SettingChange, utcnow
from .setting_specs import SPECS, SettingError, Spec

__all__ = ["SPECS", "SettingError", "Spec", "all_values", "get", "set_value", "set_many",
           "record_change", "recent_changes", "display"]


def get(key: str):
    spec = SPECS[key]
    row = db.session.get(Setting, key)
    if row is None:
        return spec.default
    value = json.loads(row.value)
    return secrets_box.decrypt(value) if spec.secret and value else value


def is_set(key: str) -> bool:
    """Whether a value other than the default is stored (a secret is not decrypted)."""
    row = db.session.get(Setting, key)
    return row is not None and json.loads(row.value) not in ("", None)


def parse(key: str, text: str) -> object:
    if key not in SPECS:
        raise SettingError(f"unknown setting {key!r}; known: {', '.join(sorted(SPECS))}")
    try:
        return SPECS[key].parse(text)
    except SettingError as exc:
        raise SettingError(f"{key}: {exc}") from exc


def set_value(key: str, text: str, who: str = "cli") -> object:
    """Validate, store and audit one setting; the caller commits."""
    return set_many({key: text}, who)[key]


def set_many(texts: dict[str, str], who: str) -> dict[str, object]:
    """Validate every value first, then store them all: nothing is half-saved."""
    values = {key: parse(key, text) for key, text in texts.items()}
    for key, value in values.items():
        _store(key, value, who)
    return values


def _store(key: str, value: object, who: str) -> None:
    spec = SPECS[key]
    try:
        old = get(key)
    except secrets_box.SecretUnreadable:
        old = None  # saved under another SECRET_KEY: replacing it is the way out
    if old == value:
        return
    stored = secrets_box.encrypt(value) if spec.secret and value else value
    row = db.session.get(Setting, key)
    if row is None:
        db.session.add(Setting(key=key, value=json.dumps(stored)))
    else:
        row.value, row.updated_at = json.dumps(stored), utcnow()
    record_change(who, key, display(key, old), display(key, value))


def display(key: str, value: object) -> str:
    """How a value is shown to people: secrets masked, everything else as JSON."""
    if key in SPECS and SPECS[key].secret:
        return secrets_box.mask(value if isinstance(value, str) else None) or '""'
    return json.dumps(value, ensure_ascii=False)


def record_change(who: str, key: str, old: str, new: str) -> None:
    db.session.add(SettingChange(who=who, key=key, old=old, new=new))


def recent_changes(limit: int = 200) -> list[SettingChange]:
    return list(db.session.scalars(select(SettingChange).order_by(SettingChange.id.desc())
                                   .limit(limit)))


def all_values() -> dict[str, object]:
    return {key: get(key) for key in SPECS}
