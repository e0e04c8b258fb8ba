"""The README is the user's manual: every setting and command it promises must exist,
and every one that exists must be in it."""

import re
from pathlib import Path

from opencx_bridge import config
from opencx_bridge.store import settings

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def test_every_configuration_key_is_documented():
    missing = [f"OPENCX_{key}" for key in config.DEFAULTS if f"`OPENCX_{key}`" not in README]
    assert missing == []


def test_every_runtime_setting_is_documented():
    missing = [key for key in settings.SPECS if f"`{key}`" not in README]
    assert missing == []


def test_every_cli_command_is_documented(app):
    first_cells = re.findall(r"^\| (.+?) \|", README, flags=re.M)  # a row may name two
    documented = {command for cell in first_cells
                  for command in re.findall(r"`([a-z]+(?: [a-z][a-z-]*)?)", cell)}
    documented |= {part.strip("`").split(" ")[0] for part in documented}
    commands = []
    for name, command in app.cli.commands.items():
        if name == "db":
            continue  # Flask-Migrate's own group, documented upstream
        subcommands = getattr(command, "commands", None)
        commands += [f"{name} {sub}" for sub in subcommands] if subcommands else [name]
    missing = [c for c in commands if c not in documented]
    assert missing == []


def test_the_readme_opens_with_the_two_commands():
    blocks = re.findall(r"```sh\n(.*?)\n```", README, flags=re.S)
    assert "flask --app app serve" in blocks[0]
    assert "pytest" in blocks[1]


def test_ci_runs_the_readme_test_command():
    ci = (Path(__file__).resolve().parent.parent / ".ci" / "run").read_text()
    test_command = re.findall(r"```sh\n(.*?)\n```", README, flags=re.S)[1]
    assert test_command in ci
