"""`flask freshchat doctor`: one line per check, fix texts, exit code 1 on a failure."""

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from conftest import connect_args
from flows import Flow

from opencx_bridge.extensions import db
from opencx_bridge.store.models import RevokedWebhook, utcnow

CHECK_IDS = ["credentials", "default_agent", "agent_name", "webhook_traffic",
             "resolution_events", "stale_webhook_url", "refused_webhooks", "routing", "token",
             "delivery_backlog", "processing_backlog", "failed_events", "stranded", "embeddings"]
LINE = re.compile(r"^(?P<id>[a-z_]+) (?P<status>ok|warn|fail) (?P<message>\S.*)$")


def doctor(runner) -> tuple[int, dict[str, tuple[str, str]], dict[str, str]]:
    """Exit code, {id: (status, message)} and {id: fix} from the output, whose form is checked."""
    result = runner.invoke(args=["freshchat", "doctor"])
    checks, fixes, last = {}, {}, None
    for line in result.output.splitlines():
        if line.startswith("  fix: "):
            assert last is not None and last not in fixes, result.output
            fixes[last] = line.removeprefix("  fix: ")
            continue
        match = LINE.match(line)
        assert match, f"unexpected line {line!r} in\n{result.output}"
        last = match["id"]
        checks[last] = (match["status"], match["message"])
    assert list(checks) == CHECK_IDS, result.output
    assert {key for key, (status, _) in checks.items() if status != "ok"} == set(fixes)
    return result.exit_code, checks, fixes


@pytest.fixture
def flow(app, client, standin, connected):
    return Flow(app, client, standin, connected)


def test_not_connected_fails_credentials_and_exits_1(runner):
    code, checks, fixes = doctor(runner)
    assert code == 1
    assert checks["credentials"] == ("fail", "not connected: run Test & Save")
    assert "flask freshchat connect" in fixes["credentials"]
    assert checks["default_agent"][0] == "warn"


def test_connected_without_webhooks_warns_webhook_traffic_and_exits_0(runner, connected):
    code, checks, fixes = doctor(runner)
    assert code == 0
    assert checks["webhook_traffic"] == ("warn", "no webhook has arrived yet")
    assert "tick Message Created" in fixes["webhook_traffic"]
    assert {key for key, (status, _) in checks.items() if status != "ok"} == {"webhook_traffic"}


def test_the_first_webhook_clears_the_traffic_warning(runner, flow):
    flow.customer_says(flow.conversation(), "hello")
    code, checks, _ = doctor(runner)
    assert code == 0
    assert checks["webhook_traffic"][0] == "ok"
    assert checks["webhook_traffic"][1].startswith("last webhook ")


def test_posts_to_an_old_url_fail_stale_webhook_url_then_warn(app, runner, standin, connected):
    assert runner.invoke(args=["freshchat", "disconnect"]).exit_code == 0
    assert runner.invoke(args=connect_args(standin)).exit_code == 0
    old_path = urlsplit(connected).path
    client = app.test_client()
    for _ in range(2):
        assert client.post(old_path, data=b"{}", content_type="application/json").status_code == 404
    code, checks, fixes = doctor(runner)
    assert code == 1
    status, message = checks["stale_webhook_url"]
    assert status == "fail"
    assert message.startswith("Freshchat posted 2 time(s) to a revoked webhook URL, last ")
    assert "paste the current webhook URL" in fixes["stale_webhook_url"]
    with app.app_context():
        row = db.session.scalar(db.select(RevokedWebhook))
        row.last_hit_at = utcnow() - timedelta(hours=3)
        db.session.commit()
    code, checks, _ = doctor(runner)
    assert checks["stale_webhook_url"] == (
        "warn", "Freshchat posted 2 time(s) to a revoked webhook URL, last 3 h ago")
    assert code == 0


def test_a_deleted_default_agent_fails_and_exits_1(runner, standin, connected):
    standin.delete_agent(standin.ai_agent["id"])
    code, checks, fixes = doctor(runner)
    assert code == 1
    status, message = checks["default_agent"]
    assert status == "fail"
    assert "no longer exists in Freshchat: handoff notes would go missing" in message
    assert "Admin Settings → Team" in fixes["default_agent"]
    assert "change the default agent email" in fixes["default_agent"]
    assert checks["credentials"][0] == "fail"  # Test & Save cannot find the agent either


def test_a_deactivated_default_agent_fails(runner, standin, connected):
    standin.update_agent(standin.ai_agent["id"], is_deactivated=True)
    code, checks, _ = doctor(runner)
    assert code == 1
    assert checks["default_agent"][0] == "fail"
    assert "is deactivated in Freshchat" in checks["default_agent"][1]


def test_a_rotated_token_fails_credentials(runner, standin, connected):
    standin.rotate_token("a-brand-new-token")
    code, checks, _ = doctor(runner)
    assert code == 1
    assert checks["credentials"][0] == "fail"
    assert "Freshchat rejected the access token" in checks["credentials"][1]
    assert checks["default_agent"][0] == "warn"  # could not be read: no false "deleted"
