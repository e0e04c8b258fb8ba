"""Runtime settings stored in the database, with an audit trail of every change.

The keys, defaults and validation live in setting_specs.py.
"""

from __future__ import annotations

import json

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from opencx_bridge.extensions import db
from opencx_bridge.store import secrets_box, session_links
from opencx_bridge.store.models import Setting, SettingChange, utcnow
from opencx_bridge.store.setting_specs import SPECS, SettingError, Spec
from opencx_bridge.store.writes import commits

__all__ = ["SPECS", "SettingError", "Spec", "all_values", "decode", "get", "set_value", "set_many",
           "record_change", "recent_changes", "display"]


_ROWS = "opencx_settings_rows"  # in Session.info: the stored settings, this transaction


def _row(key: str) -> Setting | None:
    """A step reads a dozen settings, most of them never stored: one SELECT of all the
    rows per transaction instead of one per read (a missing row is not remembered by the
    session's identity map). Dropped at commit or rollback, so other writers are seen."""
    rows = db.session.info.get(_ROWS)
    if rows is None:
        rows = {row.key: row for row in db.session.scalars(select(Setting))}
        db.session.info[_ROWS] = rows
    return rows.get(key)


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _forget_rows(session: Session) -> None:
    session.info.pop(_ROWS, None)


def get(key: str):
    row = _row(key)
    return decode(key, None if row is None else row.value)


def decode(key: str, stored: str | None):
    """A setting's value from its stored text (None: not stored, the default)."""
    spec = SPECS[key]
    if stored is None:
        return spec.default
    value = json.loads(stored)
    return secrets_box.decrypt(value) if spec.secret and value else value


def is_set(key: str) -> bool:
    """Whether a value other than the default is stored (a secret is not decrypted)."""
    row = _row(key)
    return row is not None and json.loads(row.value) not in ("", None)


def parse(key: str, text: str) -> object:
    if key not in SPECS:
        raise SettingError(f"unknown setting {key!r}; known: {', '.join(sorted(SPECS))}")
    try:
        return SPECS[key].parse(text)
    except SettingError as exc:
        raise SettingError(f"{key}: {exc}") from exc


def set_value(key: str, text: str, who: str = "cli") -> object:
    """Validate, store and audit one setting, committed."""
    return set_many({key: text}, who)[key]


@commits
def set_many(texts: dict[str, str], who: str) -> dict[str, object]:
    """Validate every value first, then store them all, committed: nothing is half-saved."""
    values = {key: parse(key, text) for key, text in texts.items()}
    relink = "freshchat_link_address" in values and values["freshchat_link_address"] != get(
        "freshchat_link_address")
    for key, value in values.items():
        _store(key, value, who)
    if relink:  # every stored link in the new form, in the same transaction
        session_links.relink(str(values["freshchat_link_address"]))
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
    row = _row(key)
    if row is None:
        row = Setting(key=key, value=json.dumps(stored))
        db.session.add(row)
        db.session.info[_ROWS][key] = row
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
