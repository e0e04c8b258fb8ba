"""Diagnostics: the pure rules (facts in, check out), then the facts as gathered from the
database and the Freshchat stand-in."""

import json
from datetime import datetime, timedelta

import pytest
from flows import Flow

from opencx_bridge.extensions import db
from opencx_bridge.scheduler import checks as d
from opencx_bridge.scheduler import freshchat_check
from opencx_bridge.scheduler.diagnostics import dedup_stats, gather
from opencx_bridge.scheduler.prune import prune_dedup_keys, prune_refused_webhooks
from opencx_bridge.store import timeline
from opencx_bridge.store.models import (
    DedupKey,
    Event,
    Integration,
    OutboxItem,
    RefusedWebhook,
    Setting,
    TimelineEntry,
    utcnow,
)

NOW = datetime(2026, 3, 2, 12, 0, 0)
AGENT = {"id": "a1", "email": "ai@acme.test", "first_name": "Aiden", "last_name": "Bot",
         "is_deleted": False, "is_deactivated": False}
CONNECTED = {"connected": True, "agent_lookup": d.AgentLookup(agent=AGENT), "agent_id": "a1",
             "agent_email": "ai@acme.test", "agent_name": "Aiden Bot",
             "integration_status": "connected", "saved_at": NOW - timedelta(days=1),
             "last_webhook_at": NOW - timedelta(minutes=3)}


def facts(**overrides) -> d.Facts:
    return d.Facts(now=NOW, **{**CONNECTED, **overrides})


def hours_ago(hours: float) -> datetime:
    return NOW - timedelta(hours=hours)


# (rule, facts, expected status, a part of the message)
RULES = {
    "credentials: not connected": (d.credentials, {"connected": False}, "fail",
                                   "not connected: run Test & Save"),
    "credentials: Test & Save fails": (d.credentials, {"connect_error": "token rejected"},
                                       "fail", "Test & Save fails now: token rejected"),
    "credentials: passes": (d.credentials, {}, "ok", "Test & Save passes now"),
    "default_agent: not connected": (d.default_agent, {"connected": False}, "warn",
                                     "not checked"),
    "default_agent: 404": (d.default_agent, {"agent_lookup": d.AgentLookup(missing=True)},
                           "fail", "no longer exists in Freshchat: handoff notes would go missing"),
    "default_agent: deleted": (d.default_agent, {"agent_lookup": d.AgentLookup(
        agent={**AGENT, "is_deleted": True})}, "fail", "was deleted in Freshchat"),
    "default_agent: deactivated": (d.default_agent, {"agent_lookup": d.AgentLookup(
        agent={**AGENT, "is_deactivated": True})}, "fail", "is deactivated in Freshchat"),
    "default_agent: cannot ask": (d.default_agent, {"agent_lookup": d.AgentLookup(
        error="401 bad token")}, "warn", "could not read the default agent"),
    "default_agent: email changed": (d.default_agent, {"agent_lookup": d.AgentLookup(
        agent={**AGENT, "email": "bot@acme.test"})}, "warn", "now has the email bot@acme.test"),
    "default_agent: email case differs": (d.default_agent, {"agent_lookup": d.AgentLookup(
        agent={**AGENT, "email": "AI@acme.test"})}, "ok", "is an active Freshchat agent"),
    "default_agent: active": (d.default_agent, {}, "ok", "ai@acme.test is an active"),
    "agent_name: unchanged": (d.agent_name, {}, "ok", "replies go out as Aiden Bot, unchanged"),
    "agent_name: renamed": (d.agent_name, {"agent_lookup": d.AgentLookup(
        agent={**AGENT, "first_name": "Ava"})}, "warn",
        "replies go out as Ava Bot; saved as Aiden Bot"),
    "agent_name: unreadable": (d.agent_name, {"agent_lookup": d.AgentLookup(missing=True)},
                               "warn", "could not be read"),
    "webhook_traffic: not connected": (d.webhook_traffic, {"connected": False}, "warn",
                                       "not connected"),
    "webhook_traffic: never": (d.webhook_traffic, {"last_webhook_at": None}, "warn",
                               "no webhook has arrived yet"),
    "webhook_traffic: silent, sessions open": (d.webhook_traffic, {
        "last_webhook_at": hours_ago(30), "sessions_open": 2}, "warn",
        "no webhook for 1 d while 2 session(s) are open"),
    "webhook_traffic: silent, nothing open": (d.webhook_traffic, {
        "last_webhook_at": hours_ago(30)}, "ok", "last webhook 1 d ago"),
    "webhook_traffic: recent": (d.webhook_traffic, {}, "ok", "last webhook 3 min ago"),
    "resolution_events: no sessions": (d.resolution_events, {}, "ok", "no sessions yet"),
    "resolution_events: none arrived": (d.resolution_events, {"sessions_total": 4}, "warn",
                                        "no Conversation Resolved or Closed event"),
    "resolution_events: arrived": (d.resolution_events, {
        "sessions_total": 4, "resolution_event_seen": True}, "ok", "arrive"),
    "stale_webhook_url: none": (d.stale_webhook_url, {}, "ok", "nothing was posted"),
    "stale_webhook_url: this hour": (d.stale_webhook_url, {
        "revoked_hits": 3, "revoked_last_hit_at": hours_ago(0.5)}, "fail",
        "posted 3 time(s) to a revoked webhook URL, last 30 min ago"),
    "stale_webhook_url: this week": (d.stale_webhook_url, {
        "revoked_hits": 3, "revoked_last_hit_at": hours_ago(5)}, "warn", "last 5 h ago"),
    "stale_webhook_url: long ago": (d.stale_webhook_url, {
        "revoked_hits": 3, "revoked_last_hit_at": hours_ago(24 * 9)}, "ok",
        "none in the last 7 days"),
    "refused_webhooks: none": (d.refused_webhooks, {}, "ok", "no webhook was refused"),
    "refused_webhooks: a wrong key": (d.refused_webhooks, {
        "refused_recent": 4, "refused_last_at": NOW - timedelta(minutes=2),
        "refused_last_status": 401, "refused_last_reason": "signature does not verify"},
        "fail", "4 webhook(s) refused in the last 24 hours, the last 2 min ago with 401: "
        "signature does not verify"),
    "refused_webhooks: a wrong key, then accepted": (d.refused_webhooks, {
        "refused_recent": 1, "refused_last_at": NOW - timedelta(minutes=5),
        "refused_last_status": 401, "refused_last_reason": "no signature"}, "warn", "401"),
    "refused_webhooks: a body": (d.refused_webhooks, {
        "refused_recent": 1, "refused_last_at": NOW - timedelta(hours=2),
        "refused_last_status": 400,
        "refused_last_reason": "conversation id longer than 255 characters"}, "warn",
        "with 400: conversation id longer than 255 characters"),
    "routing: auto": (d.routing, {"skipped_recent": 5}, "ok", "auto handle all"),
    "routing: assigned-only, nothing skipped": (d.routing, {
        "assigned_only": True, "skipped_total": 2}, "ok", "0 chat(s) skipped in the last 24 h "
        "(2 in all) because they were not assigned to Aiden Bot"),
    "routing: assigned-only, skipped": (d.routing, {
        "assigned_only": True, "skipped_recent": 1, "skipped_total": 2}, "warn",
        "1 chat(s) skipped in the last 24 h"),
    "token: not connected": (d.token, {"connected": False}, "warn", "no token saved"),
    "token: rejected": (d.token, {"integration_status": "token_rejected",
                                  "unauthorized_since_save": 2}, "fail",
                        "rejected 2 call(s) with 401 since the last save"),
    "token: a 401 since saving": (d.token, {"unauthorized_since_save": 1}, "fail", "401"),
    "token: fine": (d.token, {}, "ok", "no call rejected with 401"),
    "delivery_backlog: empty": (d.delivery_backlog, {}, "ok",
                                "0 call(s) waiting, 0 × 429 in the last hour (plan limit 60/min)"),
    "delivery_backlog: young queue": (d.delivery_backlog, {
        "outbox_depth": 3, "oldest_pending_at": NOW - timedelta(minutes=2)}, "ok",
        "3 call(s) waiting, oldest queued 2 min ago"),
    "delivery_backlog: old queue": (d.delivery_backlog, {
        "outbox_depth": 3, "oldest_pending_at": NOW - timedelta(minutes=6)}, "warn",
        "oldest queued 6 min ago"),
    "delivery_backlog: 429s": (d.delivery_backlog, {
        "rate_limited_last_hour": 2, "rate_limit_per_minute": 30}, "warn",
        "2 × 429 in the last hour (plan limit 30/min)"),
    "delivery_backlog: dead letters": (d.delivery_backlog, {"outbox_failed": 1}, "ok",
                                       "1 failed"),
}


@pytest.mark.parametrize("name", RULES)
def test_rule(name):
    rule, overrides, status, text = RULES[name]
    check = rule(facts(**overrides))
    assert check.id == rule.__name__
    assert check.status == status
    assert text in check.message
    assert check.fix or status == "ok"


def test_every_check_runs_in_the_documented_order():
    checks = d.run_checks(facts())
    assert [c.id for c in checks] == [
        "credentials", "default_agent", "agent_name", "webhook_traffic", "resolution_events",
        "stale_webhook_url", "refused_webhooks", "routing", "token", "delivery_backlog",
        "processing_backlog", "failed_events", "stranded", "embeddings"]
    assert not d.failed(checks)
    assert d.failed([*checks, d.Check("x", "fail", "m", "f")])


def test_ago_reads_like_a_person():
    assert [d.ago(NOW, NOW - timedelta(seconds=s)) for s in (5, 120, 7200, 200000)] == [
        "5 s ago", "2 min ago", "2 h ago", "2 d ago"]


# -- gathering ----------------------------------------------------------------------------

def test_gather_live_asks_freshchat_when_connected(app, standin, connected):
    with app.app_context():
        found = gather(live=True)
    assert found.connected and found.connect_error is None
    assert found.agent_lookup.agent["email"] == standin.ai_agent["email"]
    assert found.agent_name == "Aiden Bot"
    calls = standin.calls_to("GET", f"/v2/agents/{standin.ai_agent['id']}")
    assert calls, "the default agent is read by id"


def test_gather_walks_the_agents_only_when_the_saved_agent_is_not_active(app, standin,
                                                                        connected):
    standin.update_agent(standin.ai_agent["id"], is_deactivated=True)
    before = len(standin.calls)
    with app.app_context():
        found = gather(live=True)
    paths = [c["path"] for c in standin.calls[before:]]
    assert paths == [f"/v2/agents/{standin.ai_agent['id']}", "/v2/accounts/configuration",
                     "/v2/agents"]  # the walk, to say what Test & Save would say
    assert found.connect_error == (  # Test & Save's own words, from its walk
        f"the agent {standin.ai_agent['email']} is deactivated in Freshchat: reactivate it in "
        "Admin Settings → Team, or choose another agent")
    assert found.agent_lookup.agent["is_deactivated"]


def test_gather_uses_the_last_answer_kept_without_asking(app, standin, connected):
    with app.app_context():
        assert gather().agent_lookup is None  # nobody asked yet
        freshchat_check.refresh()
        before = len(standin.calls)
        found = gather()
    assert len(standin.calls) == before
    assert found.agent_lookup.agent["email"] == standin.ai_agent["email"]
    assert found.asked_at is not None


def test_the_worker_asks_when_due(app, standin, connected):
    with app.app_context():
        assert freshchat_check.due(300, utcnow())
        freshchat_check.refresh()
        assert not freshchat_check.due(300, utcnow())
        assert freshchat_check.due(300, utcnow() + timedelta(seconds=301))
        assert not freshchat_check.due(0, utcnow() + timedelta(days=1))  # 0 = never
        db.session.get(Integration, 1).status = "token_rejected"
        db.session.commit()
        assert not freshchat_check.due(300, utcnow() + timedelta(days=1))  # only a 401


def test_gather_without_a_connection_asks_nobody(app, standin):
    with app.app_context():
        found = gather(live=True)
    assert not found.connected and found.agent_lookup is None and found.connect_error is None
    assert standin.calls_to("GET", "/v2/") == []


def test_gather_counts_the_database(app, client, standin, connected):
    flow = Flow(app, client, standin, connected)
    cid = flow.conversation()
    flow.customer_says(cid, "hello")
    flow.run()
    now = utcnow()
    with app.app_context():
        integration = db.session.get(Integration, 1)
        integration.auto_handle_all = False
        for cid_, at in (("c1", now), ("c1", now), ("c2", now - timedelta(days=2))):
            db.session.add(TimelineEntry(conversation_id=cid_, kind="skip", at=at,
                           summary="assigned-only: conversation is not assigned to the AI agent"))
        db.session.add(TimelineEntry(conversation_id="c3", kind="skip", at=now,
                                     summary="conversation is resolved"))
        timeline.add("c1", "call", "PUT /conversations/c1 → 429 in 12 ms: RateLimited")
        db.session.add(OutboxItem(conversation_id="c9", kind="reply", body="{}",
                                  idempotency_key="k9", created_at=now - timedelta(minutes=9)))
        db.session.add(OutboxItem(conversation_id="c9", kind="reply", body="{}",
                                  idempotency_key="k10", status="failed"))
        db.session.commit()
        found = gather()
    assert (found.sessions_total, found.sessions_open) == (1, 1)
    assert found.last_webhook_at is not None and not found.resolution_event_seen
    assert found.assigned_only and (found.skipped_recent, found.skipped_total) == (1, 2)
    assert found.rate_limited_last_hour == 1
    assert (found.outbox_depth, found.outbox_failed) == (1, 1)
    assert found.oldest_pending_at == now - timedelta(minutes=9)


def test_a_resolution_event_is_seen(app, client, standin, connected):
    flow = Flow(app, client, standin, connected)
    cid = flow.conversation()
    flow.customer_says(cid, "hello")
    event = standin.resolution_event(standin.conversation(cid), resolver_id=standin.admin["id"])
    assert flow.post(event).status_code == 200
    with app.app_context():
        assert db.session.scalar(db.select(Event.action).where(
            Event.action == "conversation_resolution")) is not None
        assert gather().resolution_event_seen


# -- the dedup numbers ---------------------------------------------------------------------

def test_dedup_stats_and_the_recorded_prune(app):
    now = utcnow()
    with app.app_context():
        for key, hours in (("new", 1), ("mid", 20), ("old", 30)):
            db.session.add(DedupKey(key=key, seen_at=now - timedelta(hours=hours)))
        for hours in (1, 2, 30):
            db.session.add(TimelineEntry(conversation_id="c", kind="duplicate",
                                         summary="duplicate message_create dropped",
                                         at=now - timedelta(hours=hours)))
        db.session.commit()
        before = dedup_stats(now)
        assert prune_dedup_keys() == 1
        after = dedup_stats(now)
        stored = json.loads(db.session.get(Setting, "_last_dedup_prune").value)
    assert (before.keys_in_window, before.keys_total, before.duplicates_24h) == (2, 3, 2)
    assert before.oldest_key_at == now - timedelta(hours=30)
    assert before.last_prune_at is None and before.window_hours == 24.0
    assert (after.keys_total, after.last_prune_removed) == (2, 1)
    assert after.last_prune_at >= now
    assert stored["removed"] == 1



def test_refusals_are_counted_for_a_day_and_forgotten_after_a_week(app):
    now = utcnow()
    with app.app_context():
        for hours, status, reason in ((24 * 8, 401, "old"), (30, 400, "yesterday"),
                                      (1, 400, "not JSON"), (0.1, 401, "no signature")):
            db.session.add(RefusedWebhook(at=now - timedelta(hours=hours), status=status,
                                          reason=reason))
        db.session.commit()
        found = gather(now)
        assert prune_refused_webhooks(now) == 1
        assert db.session.query(RefusedWebhook).count() == 3
    assert (found.refused_recent, found.refused_last_status) == (2, 401)
    assert found.refused_last_reason == "no signature"
    assert found.refused_last_at == now - timedelta(hours=0.1)


def test_no_event_waiting_is_fine():
    assert d.processing_backlog(facts()).status == d.OK


def test_a_backlog_says_how_many_how_old_and_when_it_clears():
    check = d.processing_backlog(facts(events_waiting=30, conversations_waiting=12,
                                       oldest_event_at=NOW - timedelta(minutes=3),
                                       events_done_recently=50))
    assert check.status == d.WARN
    assert check.message == ("30 event(s) of 12 conversation(s) waiting to be processed, "
                             "oldest received 3 min ago, about 3 min to clear at the current "
                             "rate (10.0 per minute)")
    assert "freshchat_rate_limit_per_minute" in check.fix


def test_a_fresh_backlog_is_only_reported():
    check = d.processing_backlog(facts(events_waiting=3, conversations_waiting=3,
                                       oldest_event_at=NOW - timedelta(seconds=20),
                                       events_done_recently=0))
    assert check.status == d.OK
    assert "none processed in the last 5 minutes" in check.message


@pytest.mark.parametrize(("seconds", "text"), [(0.2, "1 s"), (45, "45 s"), (600, "10 min"),
                                                (7200, "2.0 h")])
def test_clears_in(seconds, text):
    assert d.clears_in(seconds) == text


def test_freshchat_answers_from_earlier_say_their_age():
    check = d.credentials(facts(asked_at=NOW - timedelta(minutes=4)))
    assert check.message.startswith("Test & Save passes when asked 4 min ago")
    assert d.credentials(facts(agent_lookup=None)).message.startswith("not checked yet")


@pytest.mark.parametrize(("facts", "status", "words"), [
    ({}, "ok", "matching by meaning is off"),
    ({"embeddings_model": "m"}, "warn", "openai_base_url is empty"),
    ({"embeddings_model": "m", "embeddings_base_url": True}, "ok", "not asked yet"),
    ({"embeddings_model": "m", "embeddings_base_url": True,
      "embeddings_ok_at": NOW - timedelta(minutes=3)}, "ok", "last answered 3 min ago"),
    ({"embeddings_model": "m", "embeddings_base_url": True,
      "embeddings_ok_at": NOW - timedelta(minutes=9), "embeddings_error": "HTTP 500",
      "embeddings_error_at": NOW - timedelta(minutes=2)}, "warn", "failed 2 min ago: HTTP 500"),
    ({"embeddings_model": "m", "embeddings_base_url": True,
      "embeddings_ok_at": NOW - timedelta(minutes=1), "embeddings_error": "HTTP 500",
      "embeddings_error_at": NOW - timedelta(minutes=2)}, "ok", "last answered 1 min ago"),
])
def test_the_embeddings_check(facts, status, words):
    result = d.embeddings(d.Facts(now=NOW, **facts))
    assert result.status == status and words in result.message, result
