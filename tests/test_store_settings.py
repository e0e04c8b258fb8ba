"""Runtime settings: typed defaults, validated values, nothing stored when a value is wrong."""

import pytest
import statements
from sqlalchemy import func, select

from opencx_bridge.extensions import db
from opencx_bridge.store import settings
from opencx_bridge.store.models import Setting
from opencx_bridge.store.settings import SettingError


def stored_rows() -> int:
    return db.session.scalar(select(func.count()).select_from(Setting))


def test_a_fresh_bridge_has_the_documented_defaults(ctx):
    values = settings.all_values()
    assert values == {key: spec.default for key, spec in settings.SPECS.items()}
    assert (values["dedup_window_hours"], values["reopen_returns_to_ai"]) == (24.0, True)
    assert values["freshchat_rate_limit_per_minute"] == 60
    assert stored_rows() == 0


def test_every_setting_has_help_text_and_a_default_that_its_own_parser_accepts():
    for key, spec in settings.SPECS.items():
        assert spec.key == key
        assert spec.help.strip()
        assert spec.parse(str(spec.default)) == spec.default


def test_a_fractional_dedup_window_is_stored_as_a_number(ctx):
    assert settings.set_value("dedup_window_hours", "0.5") == 0.5
    db.session.commit()
    assert settings.get("dedup_window_hours") == 0.5


def test_setting_a_value_again_replaces_it(ctx):
    settings.set_value("dedup_window_hours", "2")
    db.session.commit()
    settings.set_value("dedup_window_hours", " 48 ")
    db.session.commit()
    assert settings.get("dedup_window_hours") == 48.0
    assert stored_rows() == 1


@pytest.mark.parametrize(("text", "expected"), [
    ("off", False), ("OFF", False), ("false", False), ("no", False), ("0", False),
    ("on", True), ("True", True), (" yes ", True), ("1", True),
])
def test_reopen_returns_to_ai_takes_the_usual_spellings_of_on_and_off(ctx, text, expected):
    assert settings.set_value("reopen_returns_to_ai", text) is expected
    db.session.commit()
    assert settings.get("reopen_returns_to_ai") is expected


@pytest.mark.parametrize(("key", "text", "reason"), [
    ("dedup_window_hours", "-1", "above 0"),
    ("dedup_window_hours", "0", "above 0"),
    ("dedup_window_hours", "nan", "above 0"),
    ("dedup_window_hours", "a day", "expected a number"),
    ("dedup_window_hours", "", "expected a number"),
    ("reopen_returns_to_ai", "maybe", "expected true or false"),
    ("reopen_returns_to_ai", "", "expected true or false"),
])
def test_an_invalid_value_names_the_key_and_stores_nothing(ctx, key, text, reason):
    with pytest.raises(SettingError, match=reason) as raised:
        settings.set_value(key, text)
    assert str(raised.value).startswith(f"{key}: ")
    db.session.commit()
    assert stored_rows() == 0
    assert settings.get(key) == settings.SPECS[key].default


def test_an_invalid_value_leaves_the_previous_value_in_place(ctx):
    settings.set_value("dedup_window_hours", "6")
    db.session.commit()
    with pytest.raises(SettingError):
        settings.set_value("dedup_window_hours", "-6")
    db.session.commit()
    assert settings.get("dedup_window_hours") == 6.0


def test_an_unknown_key_is_refused_with_the_known_keys(ctx):
    with pytest.raises(SettingError, match="unknown setting 'dedup_window'") as raised:
        settings.set_value("dedup_window", "1")
    assert "dedup_window_hours" in str(raised.value)
    assert "reopen_returns_to_ai" in str(raised.value)
    db.session.commit()
    assert stored_rows() == 0


def test_a_setting_error_is_a_value_error():
    assert issubclass(SettingError, ValueError)


@pytest.mark.parametrize("key, value, reason", [
    ("office_hours_timezone", "0" * 300, "unknown timezone"),  # the OS refuses the file name
    ("office_hours_timezone", "Mars/Olympus", "unknown timezone"),
    ("openai_base_url", "https://:8080/v1", "expected an http"),
    ("openai_base_url", "ftp://models.example/v1", "expected an http"),
])
def test_values_the_runtime_could_not_use_are_refused_when_set(ctx, key, value, reason):
    with pytest.raises(SettingError, match=reason):
        settings.set_value(key, value)


def test_reads_in_one_transaction_cost_one_query_and_a_commit_sees_other_writers(app):
    with app.app_context():
        with statements.recorded(app) as seen:
            for key in ("office_hours", "handoff_message", "responder", "openai_model"):
                settings.get(key)
        assert sum('FROM setting' in sql for sql, _p, _m in seen) == 1
        db.session.commit()
        with app.app_context():  # another request or process changes a setting
            settings.set_value("handoff_message", "Back soon")
            db.session.commit()
        assert settings.get("handoff_message") == "Back soon"
