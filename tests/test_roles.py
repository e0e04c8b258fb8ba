"""Which worker does what: on SQLite one works and others stand by; on PostgreSQL all work,
one runs the scheduler, and rows a dead worker left in flight go out again."""

from __future__ import annotations

import databases
import pytest
from bridge_process import BridgeProcess, chats, replies, start_bridge

from opencx_bridge import outbox
from opencx_bridge.extensions import db
from opencx_bridge.lease import EXPIRES_AFTER
from opencx_bridge.models import OutboxItem
from opencx_bridge.roles import CHECK_EVERY, Roles


class Clocks:
    def __init__(self):
        self.wall, self.mono = 1_000_000.0, 0.0

    def advance(self, seconds: float) -> None:
        self.wall += seconds
        self.mono += seconds


@pytest.fixture
def clocks():
    return Clocks()


def roles(app, clocks, shares_work: bool, on_promoted=lambda: None) -> Roles:
    with app.app_context():
        made = Roles(db.engine, on_promoted, clock=lambda: clocks.wall,
                     monotonic=lambda: clocks.mono)
    made.shares_work = shares_work  # the policy, tried on either database
    if not shares_work:
        made.member = None
    return made


@pytest.mark.parametrize("shares_work", [False, True])
def test_the_first_worker_leads_and_the_second_waits_for_the_scheduler(app, clocks,
                                                                       shares_work):
    first, second = roles(app, clocks, shares_work), roles(app, clocks, shares_work)
    assert not first.may_work and not first.standby  # nothing decided before the first check
    first.member = second.member = None  # membership is PostgreSQL's (test_membership)
    first.check()
    second.check()
    assert first.leading and not second.leading
    assert first.may_work and second.may_work is shares_work
    assert second.standby is (not shares_work)


def test_promotion_work_is_done_before_anyone_sees_the_new_leader(app, clocks):
    seen = []
    worker = roles(app, clocks, False, on_promoted=lambda: seen.append(worker.may_work))
    worker.check()
    assert seen == [False] and worker.may_work


def test_a_leader_that_misses_its_heartbeats_is_replaced(app, clocks):
    worker, other = roles(app, clocks, False), roles(app, clocks, False)
    worker.check()
    clocks.advance(EXPIRES_AFTER + 1)  # the whole process hung: no heartbeat for too long
    other.check()
    assert other.leading
    clocks.advance(CHECK_EVERY / 2)
    worker.check()  # its next check finds the lease taken
    assert worker.standby and not worker.may_work
    other.check()  # not due again yet: nothing changes
    assert other.leading


def test_the_heartbeat_runs_on_its_own_thread(app, clocks, standin):
    """Worker threads may be busy for longer than a lease lasts; the heartbeat is not theirs."""
    worker = roles(app, clocks, False)
    worker.start()
    try:
        standin.wait_for(lambda: worker.leading is not None, timeout=10)
    finally:
        worker.stop()
    other = roles(app, clocks, False)
    other.check()
    assert other.leading  # handed over on stop: no wait for the lease to run out


def test_a_leader_with_a_thread_still_busy_does_not_hand_over_on_stop(app, clocks):
    worker, other = roles(app, clocks, False), roles(app, clocks, False)
    worker.check()
    worker.stop(handing_over=False)  # its in-flight rows stay its own until the lease runs out
    clocks.advance(CHECK_EVERY)
    other.check()
    assert not other.leading


def test_rows_in_flight_in_a_gone_worker_go_out_again_checked_first(app):
    with app.app_context():
        for owner in ("alive", "gone", None):
            db.session.add(OutboxItem(conversation_id="c", kind="reply", body="{}",
                                      idempotency_key=f"k-{owner}", status="sending",
                                      claimed_by=owner))
        db.session.commit()
        assert outbox.in_flight_owners() == {"alive", "gone"}
        assert outbox.release_orphans({"gone"}) == 2
        rows = {row.claimed_by: (row.status, row.uncertain) for row in
                db.session.scalars(db.select(OutboxItem))}
    assert rows == {"alive": ("sending", False), "gone": ("pending", True),
                    None: ("pending", True)}


def test_only_one_worker_claims_an_outbox_row(app):
    with app.app_context():
        db.session.add(OutboxItem(conversation_id="c", kind="reply", body="{}",
                                  idempotency_key="k"))
        db.session.commit()
        item = db.session.scalar(db.select(OutboxItem))
        assert outbox._claim(item, "first") is True
        assert item.status == "sending" and item.attempts == 1 and item.claimed_by == "first"
        stale = OutboxItem(id=item.id, status="pending")  # what the other worker had read
        assert outbox._claim(stale, "second") is False


@pytest.mark.skipif(not databases.ON_POSTGRESQL,
                    reason="workers share the work on PostgreSQL; on SQLite one stands by")
def test_two_processes_on_postgresql_answer_200_chats_exactly_once(tmp_path, standin):
    url = databases.empty(tmp_path)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = start_bridge(tmp_path / "a", standin, url)
    webhook_path = standin.webhook_url.split("/webhooks/", 1)[1]
    second = BridgeProcess(tmp_path / "b", standin, url)
    first.start()
    second.start()
    try:
        conversations = chats(standin, 200)
        for number, cid in enumerate(conversations):  # webhooks reach both, in turn
            standin.webhook_url = f"{(first, second)[number % 2].url}/webhooks/{webhook_path}"
            standin.customer_says(cid, "where is my order?")
        standin.wait_for(lambda: all(replies(standin, c) for c in conversations), timeout=120)
        first.settle(timeout=30)
        assert [len(replies(standin, c)) for c in conversations] == [1] * 200
        senders = first.query("SELECT DISTINCT claimed_by FROM outbox_item")
        assert len(senders) == 2, f"one process did all the work: {senders}"
    finally:
        first.stop()
        second.stop()


def test_the_test_databases_are_what_the_suite_was_asked_for(app):
    """CI runs the suite twice; this says which database the run really used."""
    with app.app_context():
        dialect = db.engine.dialect.name
    assert dialect == ("postgresql" if databases.ON_POSTGRESQL else "sqlite")
