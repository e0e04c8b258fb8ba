"""`flask freshchat connect|status|disconnect`, against the Freshchat stand-in."""

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from bridge_process import free_port
from conftest import connect_args

from opencx_bridge import create_app
from opencx_bridge.extensions import db
from opencx_bridge.freshchat.account import TOKEN_FORBIDDEN, TOKEN_REJECTED
from opencx_bridge.standin.seed import AI_EMAIL

WEBHOOK_BODY = (Path(__file__).parent / "fixtures" / "freshchat" / "message_create_user.json"
                ).read_bytes()


@pytest.fixture
def freshchat(app, standin):
    app.config["FRESHCHAT_API_BASE"] = standin.base_url
    return standin


def connect(runner, standin, *extra, **overrides):
    return runner.invoke(args=[*connect_args(standin, **overrides), *extra])


def url_in(output: str) -> str:
    [url] = re.findall(r"^webhook URL: (\S+)$", output, flags=re.MULTILINE)
    return url


def status(runner) -> dict[str, str]:
    result = runner.invoke(args=["freshchat", "status"])
    assert result.exit_code == 0, result.output
    return dict(line.split(": ", 1) for line in result.output.splitlines())


def deliver(app, url: str) -> int:
    path = urlsplit(url).path
    return app.test_client().post(path, data=WEBHOOK_BODY,
                                  content_type="application/json").status_code


@pytest.fixture
def good(runner, freshchat) -> dict[str, str]:
    """Connected with a good token; returns `freshchat status` afterwards."""
    result = connect(runner, freshchat)
    assert result.exit_code == 0, result.output
    return status(runner)


# -- connect succeeds ----------------------------------------------------------------------------

def test_connect_prints_the_webhook_url_and_what_to_tick(runner, freshchat):
    result = connect(runner, freshchat)
    assert result.exit_code == 0, result.output
    assert f"connected to acme.freshchat.com; the AI answers as Aiden Bot <{AI_EMAIL}>" \
        in result.output
    assert re.fullmatch(r"http://localhost:5000/webhooks/freshchat/[A-Za-z0-9_-]{43,}",
                        url_in(result.output))
    for event in ("Message Created", "Conversation Assignment", "Conversation Resolved",
                  "Conversation Reopened"):
        assert event in result.output
    assert freshchat.token not in result.output


def test_status_shows_the_domain_and_the_agents_full_name(runner, good, freshchat):
    assert good["domain"] == "acme.freshchat.com"
    assert good["connected"] == "yes"
    assert good["default_agent"] == f"Aiden Bot <{AI_EMAIL}>"
    assert good["routing"] == "auto handle all incoming chats"
    assert good["webhook_url"].startswith("http://localhost:5000/webhooks/freshchat/")
    assert good["signature_check"] == "off (no public key saved)"
    assert good["last_webhook"] == "never"
    assert good["last_api_error"] == "none"
    assert good["backlog"] == "none: nobody is waiting for the AI"
    assert freshchat.token not in "".join(good.values())


def test_status_says_how_long_a_backlog_takes(app, runner):
    from datetime import timedelta

    from opencx_bridge.extensions import db
    from opencx_bridge.store.models import Event, utcnow

    with app.app_context():
        for number in range(30):
            db.session.add(Event(action="message_create", conversation_id=f"c{number}",
                                 dedup_key=f"k{number}", payload="{}",
                                 received_at=utcnow() - timedelta(minutes=2)))
        db.session.commit()
    assert status(runner)["backlog"] == (
        "30 conversation(s) waiting for the AI, the oldest wrote 2 min ago; about 2 min to "
        "clear at 20.0 conversation(s) a minute")


def test_status_before_any_connection(runner):
    shown = status(runner)
    assert shown["domain"] == "-"
    assert shown["connected"] == "no"
    assert shown["webhook_url"] == "-"
    assert shown["default_agent"] == "-"


def test_a_pasted_url_is_stored_as_the_bare_domain(runner, freshchat):
    result = connect(runner, freshchat, **{"--domain": "https://acme.freshchat.com/"})
    assert result.exit_code == 0, result.output
    assert status(runner)["domain"] == "acme.freshchat.com"


def test_assigned_only(runner, freshchat):
    args = connect_args(freshchat)[:-1] + ["--assigned-only"]
    assert runner.invoke(args=args).exit_code == 0
    assert status(runner)["routing"] == "assigned-only"


def test_the_agent_email_is_matched_case_insensitively(runner, freshchat):
    result = connect(runner, freshchat, **{"--agent-email": "AI@ACME.test"})
    assert result.exit_code == 0, result.output
    assert status(runner)["default_agent"] == f"Aiden Bot <{AI_EMAIL}>"


def test_connecting_again_keeps_the_webhook_url(runner, good, freshchat):
    args = connect_args(freshchat)[:-1] + ["--assigned-only"]
    result = runner.invoke(args=args)
    assert result.exit_code == 0
    assert url_in(result.output) == good["webhook_url"]
    assert status(runner)["webhook_url"] == good["webhook_url"]


def test_a_public_key_file_turns_signature_checks_on(app, runner, freshchat):
    key_file = Path(app.instance_path) / "key.pem"
    key_file.write_text(freshchat.public_key_text)
    result = connect(runner, freshchat, **{"--public-key-file": str(key_file)})
    assert result.exit_code == 0, result.output
    assert status(runner)["signature_check"] == "on"
    assert deliver(app, url_in(result.output)) == 401  # unsigned bodies are now refused


# -- connect fails: its own message, nothing changes ---------------------------------------------

def revoked(app, standin):
    old = standin.token
    standin.rotate_token("a-brand-new-token")  # Freshchat: a new token invalidates the old one
    return {"--token": old}


def forbidden(app, standin):
    standin.add_token("t2", forbidden=True)
    return {"--token": "t2"}


def unreachable(app, standin):
    app.config["FRESHCHAT_API_BASE"] = f"http://127.0.0.1:{free_port()}/v2"
    return {}


FAILURES = {
    "revoked token": (revoked, TOKEN_REJECTED),
    "missing permission": (forbidden, TOKEN_FORBIDDEN),
    "unknown agent email": (lambda app, st: {"--agent-email": "nobody@acme.test"},
                            "no Freshchat agent has the email nobody@acme.test"),
    "domain with a path": (lambda app, st: {"--domain": "acme.freshchat.com/a/123"},
                           "domain: 'acme.freshchat.com/a/123' is not a Freshchat domain; "
                           "expected a host name like yourcompany.freshchat.com"),
    "unreachable host": (unreachable, "could not reach https://acme.freshchat.com"),
}


@pytest.mark.parametrize("case", FAILURES)
def test_a_failed_connect_keeps_the_earlier_settings(app, runner, good, freshchat, case):
    arrange, message = FAILURES[case]
    overrides = arrange(app, freshchat)
    args = connect_args(freshchat, **overrides)[:-1] + ["--assigned-only"]
    result = runner.invoke(args=args)
    assert result.exit_code == 1
    assert result.output.startswith("Error: " + message)
    assert "Nothing was saved." in result.output
    assert "webhook URL" not in result.output
    assert status(runner) == good
    app.config["FRESHCHAT_API_BASE"] = freshchat.base_url
    assert deliver(app, good["webhook_url"]) == 200  # the URL still works


def test_a_failed_connect_before_any_connection_saves_nothing(runner, freshchat):
    result = connect(runner, freshchat, **{"--agent-email": "nobody@acme.test"})
    assert result.exit_code == 1
    shown = status(runner)
    assert (shown["domain"], shown["connected"], shown["webhook_url"]) == ("-", "no", "-")


def test_a_routing_mode_must_be_chosen(runner, freshchat):
    args = connect_args(freshchat)[:-1]
    result = runner.invoke(args=args)
    assert result.exit_code == 2
    assert "Usage:" in result.output
    assert "choose a routing mode: --auto-handle-all or --assigned-only" in result.output
    assert freshchat.calls == []
    assert status(runner)["connected"] == "no"


def test_an_omitted_token_is_prompted_for_and_kept_out_of_the_arguments(runner, freshchat):
    args = connect_args(freshchat)
    at = args.index("--token")
    result = runner.invoke(args=args[:at] + args[at + 2:], input=freshchat.token + "\n")
    assert result.exit_code == 0, result.output
    assert "Freshchat API token" in result.output
    assert freshchat.token not in result.output
    assert status(runner)["connected"] == "yes"


@pytest.mark.parametrize("missing", ["--domain", "--agent-email"])
def test_the_other_options_are_required(runner, freshchat, missing):
    args = connect_args(freshchat)
    at = args.index(missing)
    result = runner.invoke(args=args[:at] + args[at + 2:])
    assert result.exit_code == 2
    assert f"Missing option '{missing}'" in result.output


def test_a_garbage_public_key_file_names_the_key(app, runner, good, freshchat):
    key_file = Path(app.instance_path) / "key.pem"
    key_file.write_text("-----BEGIN PUBLIC KEY-----\nnot a key at all\n-----END PUBLIC KEY-----\n")
    freshchat.calls.clear()
    result = connect(runner, freshchat, **{"--public-key-file": str(key_file)})
    assert result.exit_code == 1
    assert result.output.startswith("Error: the public key ")
    assert "Nothing was saved." in result.output
    assert freshchat.calls == []
    assert status(runner) == good


def test_a_missing_public_key_file_is_named(app, runner, freshchat):
    missing = Path(app.instance_path) / "nope.pem"
    result = connect(runner, freshchat, **{"--public-key-file": str(missing)})
    assert result.exit_code != 0
    assert "--public-key-file" in result.output
    assert status(runner)["connected"] == "no"


# -- disconnect ----------------------------------------------------------------------------------

def test_disconnect_then_connect_gives_a_new_url_and_the_old_one_answers_404(
        app, runner, good, freshchat):
    old = good["webhook_url"]
    assert deliver(app, old) == 200

    result = runner.invoke(args=["freshchat", "disconnect"])
    assert result.exit_code == 0
    assert "disconnected; the old webhook URL now answers 404" in result.output
    shown = status(runner)
    assert (shown["domain"], shown["connected"], shown["webhook_url"]) == ("-", "no", "-")
    assert deliver(app, old) == 404

    result = connect(runner, freshchat)
    assert result.exit_code == 0, result.output
    new = url_in(result.output)
    assert new != old
    assert deliver(app, new) == 200
    assert deliver(app, old) == 404


def test_disconnect_with_nothing_connected(runner):
    result = runner.invoke(args=["freshchat", "disconnect"])
    assert result.exit_code == 0
    assert result.output == "nothing to disconnect\n"


def test_after_the_secret_key_changed_connect_explains_the_hidden_url(app, good, freshchat):
    other = create_app({"TESTING": True, "WORKER": False, "SECRET_KEY": "a different key",
                        "DATABASE_URL": app.config["DATABASE_URL"],
                        "FRESHCHAT_API_BASE": freshchat.base_url})
    try:
        runner = other.test_cli_runner()
        result = connect(runner, freshchat)
        assert result.exit_code == 1
        assert "cannot be shown" in result.output
        assert "flask freshchat disconnect" in result.output
        assert status(runner)["webhook_url"].startswith("unreadable")
        assert runner.invoke(args=["freshchat", "disconnect"]).exit_code == 0
        result = connect(runner, freshchat)
        assert result.exit_code == 0, result.output
        assert url_in(result.output) != good["webhook_url"]
    finally:
        with other.app_context():
            db.session.remove()
            db.engine.dispose()
