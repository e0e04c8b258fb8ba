"""`flask settings show|set`: what an operator types, what they read back."""

import json

import pytest
from sqlalchemy import func, select

from opencx_bridge.extensions import db
from opencx_bridge.store import settings
from opencx_bridge.store.models import Setting


def shown(runner) -> dict[str, str]:
    result = runner.invoke(args=["settings", "show"])
    assert result.exit_code == 0, result.output
    values = {}
    for line in result.output.splitlines():
        assignment, _, help_text = line.partition("\t# ")
        key, _, value = assignment.partition(" = ")
        assert help_text, f"no help on {line!r}"
        values[key] = value
    return values


def stored_rows(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Setting))


def test_show_lists_every_setting_with_its_default_and_help(runner):
    expected = {key: json.dumps(spec.default) for key, spec in settings.SPECS.items()}
    assert shown(runner) == expected
    assert shown(runner)["dedup_window_hours"] == "24.0"


def test_show_explains_each_setting(runner):
    output = runner.invoke(args=["settings", "show"]).output
    for spec in settings.SPECS.values():
        assert spec.help in output


def test_set_a_half_hour_dedup_window(app, runner):
    result = runner.invoke(args=["settings", "set", "dedup_window_hours", "0.5"])
    assert result.exit_code == 0, result.output
    assert result.output == "dedup_window_hours = 0.5\n"
    assert shown(runner)["dedup_window_hours"] == "0.5"
    with app.app_context():
        assert settings.get("dedup_window_hours") == 0.5


def test_turn_reopen_returns_to_ai_off(app, runner):
    result = runner.invoke(args=["settings", "set", "reopen_returns_to_ai", "off"])
    assert result.exit_code == 0, result.output
    assert result.output == "reopen_returns_to_ai = false\n"
    assert shown(runner)["reopen_returns_to_ai"] == "false"
    with app.app_context():
        assert settings.get("reopen_returns_to_ai") is False


@pytest.mark.parametrize(("key", "value", "reason"), [
    ("dedup_window_hours", "-1", "expected a number above 0"),
    ("dedup_window_hours", "0", "expected a number above 0"),
    ("dedup_window_hours", "a day", "expected a number"),
    ("reopen_returns_to_ai", "sometimes", "expected true or false"),
])
def test_an_invalid_value_fails_naming_the_key_and_stores_nothing(app, runner, key, value,
                                                                  reason):
    # `--` lets a negative number through as a value rather than an unknown option
    result = runner.invoke(args=["settings", "set", key, "--", value])
    assert result.exit_code != 0
    assert f"Error: {key}: {reason}" in result.output
    assert "Traceback" not in result.output
    assert stored_rows(app) == 0
    assert shown(runner)[key] == {"dedup_window_hours": "24.0",
                                  "reopen_returns_to_ai": "true"}[key]


def test_an_unknown_key_fails_naming_it(app, runner):
    result = runner.invoke(args=["settings", "set", "dedup_hours", "1"])
    assert result.exit_code != 0
    assert "unknown setting 'dedup_hours'" in result.output
    assert "dedup_window_hours" in result.output
    assert stored_rows(app) == 0


def test_a_negative_number_without_the_separator_is_refused_too(app, runner):
    result = runner.invoke(args=["settings", "set", "dedup_window_hours", "-1"])
    assert result.exit_code != 0
    assert stored_rows(app) == 0


def test_set_needs_a_key_and_a_value(runner):
    result = runner.invoke(args=["settings", "set", "dedup_window_hours"])
    assert result.exit_code == 2
    assert "Missing argument 'VALUE'" in result.output
