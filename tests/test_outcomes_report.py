"""The report's numbers: a scripted mix of conversations through the stand-in (webhooks in,
the worker by hand, Freshchat calls over real HTTP), then `report.build`, `flask report
--json` and the overview page must all say the same; and `summarize` on its own."""

import json
import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from flows import Flow

from opencx_bridge.ai import Answer
from opencx_bridge.extensions import db
from opencx_bridge.outcomes import report
from opencx_bridge.outcomes.period import Period, last_days
from opencx_bridge.store.models import ChatSession, utcnow

UNSURE = "something the knowledge base does not cover"


class MixResponder:
    """Sure of everything except the one question it should not answer."""

    def respond(self, question, history):
        if UNSURE in question:
            return Answer(text="maybe this?", confidence=0.1)
        return Answer(text="Here is how that works.", confidence=0.95)


@pytest.fixture
def flow(app, client, standin, connected):
    return Flow(app, client, standin, connected, responder=MixResponder())


def resolve_in_freshchat(flow, standin, cid):
    _, after = standin.update_conversation(cid, {"status": "resolved"})
    flow.post(standin.resolution_event(after, resolver="agent", resolver_id=standin.admin["id"]))
    flow.run()


def script_the_mix(flow, standin) -> dict[str, str]:
    cids = {}
    cids["answered"] = flow.conversation(email="answered@example.com")
    flow.customer_says(cids["answered"], "how do I change my address?")
    flow.run()
    resolve_in_freshchat(flow, standin, cids["answered"])

    cids["human"] = flow.conversation(email="human@example.com")
    flow.customer_says(cids["human"], "I want to talk to a human please")

    cids["unsure"] = flow.conversation(email="unsure@example.com")
    flow.customer_says(cids["unsure"], f"I need {UNSURE}")

    cids["takeover"] = flow.conversation(email="takeover@example.com")
    flow.customer_says(cids["takeover"], "hello, is my order late?")
    flow.run()
    rep = standin.add_agent("rita@acme.test", "Rita", "Rep")
    message = standin.add_message(cids["takeover"], actor_type="agent", actor_id=rep["id"],
                                  text="Let me look at that for you.")
    flow.post(standin.message_event(message))

    cids["reopened"] = flow.conversation(email="reopened@example.com")
    flow.customer_says(cids["reopened"], "what are your opening hours?")
    flow.run()
    resolve_in_freshchat(flow, standin, cids["reopened"])
    _, after = standin.update_conversation(cids["reopened"], {"status": "reopened"})
    flow.post(standin.reopen_event(after, reopener="user",
                                   reopener_id=standin.conversation(cids["reopened"])["users"][0]["id"]))
    flow.customer_says(cids["reopened"], "that did not help, the page is blank")
    flow.run()
    flow.spare_budget()  # the contacts the inbox shows
    return cids


EXPECTED = {"conversations": 5, "ai_resolved": 1, "handed_off": 2, "taken_over": 1,
            "reopened_after_ai": 1, "ai_resolution_rate": 0.2,
            "handoffs_by_reason": {"human_asked": 1, "low_confidence": 1}}


def test_a_scripted_mix_counts_exactly(flow, app, standin, runner, admin):
    script_the_mix(flow, standin)
    with app.app_context():
        numbers = report.build(last_days(1, ZoneInfo("UTC"), utcnow()), 72.0)
    assert {key: numbers[key] for key in EXPECTED} == EXPECTED
    # every conversation got an AI message (an answer or the handoff message) in Freshchat
    assert numbers["first_replies_measured"] == 5
    assert numbers["first_reply_p50_seconds"] is not None
    assert numbers["first_reply_p95_seconds"] >= numbers["first_reply_p50_seconds"]

    result = runner.invoke(args=["report", "--days", "1", "--json"])
    assert result.exit_code == 0, result.output
    shell = json.loads(result.output)
    assert {key: shell[key] for key in EXPECTED} == EXPECTED
    for key in ("first_reply_p50_seconds", "first_reply_p95_seconds"):
        assert key in shell

    page = admin.get("/overview?period=today").get_data(as_text=True)
    shown = dict(re.findall(r'data-figure="(\w+)">(\d+)<', page))
    assert shown == {k: str(v) for k, v in EXPECTED.items() if isinstance(v, int)
                     and k != "ai_resolution_rate"} | {"median_messages": shown["median_messages"]}
    shown_reasons = dict(re.findall(r'data-reason="(\w+)" href="[^"]+">(\d+)<', page))
    assert shown_reasons == {"human_asked": "1", "low_confidence": "1"}


def test_each_number_links_to_the_sessions_it_counts(flow, app, standin, admin):
    cids = script_the_mix(flow, standin)
    page = admin.get("/overview?period=today").get_data(as_text=True)
    links = dict(re.findall(r'id="figure-(\w+)"\s+href="([^"]+)"', page))
    links |= {f"handoff:{kind}": href.replace("&amp;", "&") for kind, href in
              re.findall(r'data-reason="(\w+)" href="([^"]+)"', page)}
    expected = {"conversations": set(cids), "ai_resolved": {"answered"},
                "handed_off": {"human", "unsure"}, "taken_over": {"takeover"},
                "reopened_after_ai": {"reopened"}, "handoff:human_asked": {"human"},
                "handoff:low_confidence": {"unsure"}}
    for name, which in expected.items():
        inbox = admin.get(links[name].replace("&amp;", "&"))
        assert inbox.status_code == 200, name
        html = inbox.get_data(as_text=True)
        listed = {key for key, cid in cids.items() if f"{key}@example.com" in html}
        assert listed == which, name


def test_a_bad_outcome_filter_says_what_is_wrong(admin):
    response = admin.get("/?outcome=everything&since=2026-12-01")
    assert response.status_code == 400
    assert "unknown outcome" in response.get_data(as_text=True)
    response = admin.get("/?outcome=ai_resolved&since=yesterday")
    assert response.status_code == 400
    assert "YYYY-MM-DD" in response.get_data(as_text=True)


UTC = ZoneInfo("UTC")


def row(created, kind=None, seconds=None, messages=2, flags=(1, 0, 0, 0, 0)):
    return (created, kind, seconds, messages, *flags)


def test_summarize_counts_per_local_day_and_hour():
    zone = ZoneInfo("America/New_York")
    period = Period(date(2026, 12, 1), date(2026, 12, 2), zone)
    rows = [  # 04:30 UTC on the 2nd is 23:30 on the 1st in New York
        row(datetime(2026, 12, 2, 4, 30), seconds=10, flags=(1, 1, 0, 0, 0)),
        row(datetime(2026, 12, 2, 15, 0), kind="human_asked", seconds=30, messages=4,
            flags=(1, 0, 1, 0, 0)),
        row(datetime(2026, 12, 2, 15, 10), kind=None, flags=(1, 0, 1, 0, 0)),
    ]
    numbers = report.summarize(rows, period, 72.0)
    assert numbers["conversations"] == 3 and numbers["ai_resolved"] == 1
    assert numbers["handoffs_by_reason"] == {"human_asked": 1, "other": 1}
    assert [(d["date"], d["conversations"], d["handed_off"]) for d in numbers["per_day"]] == [
        ("2026-12-01", 1, 0), ("2026-12-02", 2, 2)]
    assert numbers["busiest_hours"] == [{"hour": 10, "conversations": 2},
                                        {"hour": 23, "conversations": 1}]
    assert (numbers["first_reply_p50_seconds"], numbers["first_reply_p95_seconds"]) == (10, 30)
    assert numbers["median_messages"] == 2
    assert numbers["ai_resolution_rate"] == round(1 / 3, 4)


def test_summarize_of_nothing_is_zeros_not_errors():
    numbers = report.summarize([], Period(date(2026, 12, 1), date(2026, 12, 1), UTC), 72.0)
    assert numbers["conversations"] == 0 and numbers["ai_resolution_rate"] is None
    assert numbers["first_reply_p50_seconds"] is None and numbers["median_messages"] is None


@pytest.mark.parametrize(("values", "p", "expected"), [
    ([], 50, None), ([5], 95, 5), ([1, 2, 3, 4], 50, 2), (list(range(1, 101)), 95, 95),
])
def test_percentile_is_nearest_rank(values, p, expected):
    assert report.percentile(values, p) == expected


def test_a_reopen_after_the_window_is_still_ai_resolved(flow, app, standin):
    cid = flow.conversation()
    flow.customer_says(cid, "how do I change my address?")
    flow.run()
    resolve_in_freshchat(flow, standin, cid)
    with app.app_context():
        session = db.session.scalar(db.select(ChatSession))
        for moment in ("first_customer_message_at", "first_ai_reply_at", "first_resolved_at"):
            setattr(session, moment, getattr(session, moment) - timedelta(hours=100))
        db.session.commit()
    flow.customer_says(cid, "one more thing")
    flow.run()
    with app.app_context():
        session = db.session.scalar(db.select(ChatSession))
        assert session.reopened_after_hours > 100
        numbers = report.build(last_days(1, UTC, utcnow()), 72.0)
    assert (numbers["ai_resolved"], numbers["reopened_after_ai"]) == (1, 0)
