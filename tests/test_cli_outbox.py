"""`flask outbox list|retry`."""

import pytest

from opencx_bridge.extensions import db
from opencx_bridge.outbox import delivery
from opencx_bridge.store.models import OutboxItem


@pytest.fixture
def rows(app):
    with app.app_context():
        delivery.enqueue("conv-1", "reply", delivery.message_body("hi", "agent-1"), "k1")
        delivery.enqueue("conv-2", "resolve", {"status": "resolved"}, "k2")
        db.session.flush()
        failed = db.session.scalar(db.select(OutboxItem).where(OutboxItem.idempotency_key == "k2"))
        failed.status, failed.last_status, failed.last_error = "failed", 400, "bad status"
        db.session.commit()
        return failed.id


def test_list_shows_what_is_not_sent_with_the_error(runner, rows):
    output = runner.invoke(args=["outbox", "list"]).output
    assert "pending\treply\tconv-1" in output
    assert "failed\tresolve\tconv-2" in output
    assert "400 bad status" in output


def test_list_by_status(runner, rows):
    output = runner.invoke(args=["outbox", "list", "--status", "failed"]).output
    assert "conv-2" in output and "conv-1" not in output


def test_retry_one_failed_row(app, runner, rows):
    result = runner.invoke(args=["outbox", "retry", str(rows)])
    assert result.exit_code == 0
    assert "1 row(s) queued again" in result.output
    with app.app_context():
        assert db.session.get(OutboxItem, rows).status == "pending"


def test_retry_all_failed(runner, rows):
    assert "1 row(s)" in runner.invoke(args=["outbox", "retry", "--all-failed"]).output


@pytest.mark.parametrize("args, message", [
    (["outbox", "retry"], "give one ITEM_ID or --all-failed"),
    (["outbox", "retry", "999"], "no outbox row 999"),
])
def test_retry_mistakes_are_explained(runner, rows, args, message):
    result = runner.invoke(args=args)
    assert result.exit_code != 0
    assert message in result.output


def test_retrying_a_row_that_did_not_fail_says_so(runner, rows):
    result = runner.invoke(args=["outbox", "retry", str(rows - 1)])
    assert result.exit_code != 0
    assert "not failed" in result.output
