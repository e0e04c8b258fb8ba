"""Profiles read from spare budget: after the reply, never while a customer waits, once."""

import pytest
from flows import Flow

from opencx_bridge.extensions import db
from opencx_bridge.scheduler import profiles
from opencx_bridge.store.models import ChatSession, Contact, RateBucket


@pytest.fixture
def flow(app, client, standin, connected):
    return Flow(app, client, standin, connected)


def contact_of(app, cid):
    with app.app_context():
        row = db.session.scalar(db.select(ChatSession).where(ChatSession.conversation_id == cid))
        contact = db.session.get(Contact, row.contact_id) if row.contact_id else None
        return (contact.email, contact.name) if contact else None


def answered(flow, email):
    cid = flow.conversation(email=email)
    flow.customer_says(cid, "hello")
    flow.run()
    return cid


def test_nothing_is_read_while_a_customer_waits_or_just_wrote(app, flow, standin):
    cid = answered(flow, "wait@example.com")
    flow.customer_says(flow.conversation(), "I am waiting")  # not processed yet
    with app.app_context():
        db.session.execute(db.update(RateBucket).values(updated=0.0))
        db.session.commit()
        assert profiles.fetch_spare() == 0
    assert standin.calls_to("GET", "/v2/users/") == []
    flow.run()
    with app.app_context():
        assert profiles.fetch_spare() == 0  # a webhook came a moment ago
    flow.spare_budget()
    assert contact_of(app, cid) == ("wait@example.com", "Casey Customer")


def test_only_a_full_bucket_pays_for_a_profile(app, flow, standin):
    import time
    from datetime import timedelta

    from opencx_bridge.store.models import Event

    answered(flow, "full@example.com")
    with app.app_context():
        for event in db.session.scalars(db.select(Event)):
            event.received_at -= timedelta(minutes=1)  # quiet
        db.session.execute(db.update(RateBucket).values(tokens=1.0, updated=time.time() + 60))
        db.session.commit()  # one token short of full (the burst is 2), and no refill yet
        assert profiles.fetch_spare() == 0
    assert standin.calls_to("GET", "/v2/users/") == []
    flow.spare_budget()
    assert len(standin.calls_to("GET", "/v2/users/")) == 1


def test_a_user_freshchat_does_not_have_gets_a_contact_without_details(app, flow, standin):
    cid = answered(flow, "gone@example.com")
    standin.fail_next("GET", "/v2/users/*", 404)
    flow.spare_budget()
    assert contact_of(app, cid) == (None, None)
    flow.spare_budget()
    assert len(standin.calls_to("GET", "/v2/users/")) == 1  # not asked again


def test_a_failing_read_is_left_for_later(app, flow, standin):
    cid = answered(flow, "later@example.com")
    standin.fail_next("GET", "/v2/users/*", 503)
    with app.app_context():
        db.session.execute(db.update(RateBucket).values(updated=0.0))
        db.session.commit()
    flow.spare_budget()  # the first try fails; the next round reads it
    assert contact_of(app, cid) == ("later@example.com", "Casey Customer")
