"""An event the worker gives up on: a human gets the conversation with a note saying why,
the diagnostic fails until it is retried, and `flask events retry` processes it again."""

from flows import Flow
from sqlalchemy import select

from opencx_bridge.engine import step
from opencx_bridge.extensions import db
from opencx_bridge.scheduler import diagnostics
from opencx_bridge.store.models import ChatSession, Event


def boom(*args, **kwargs):
    raise RuntimeError("a bug in the bridge")


def crash_until_failed(flow):
    for _ in range(step.MAX_CRASHES):
        flow.run()
        flow.time_passes(400)
    flow.run()  # the handover's own rows go out


def texts(standin, cid, kind):
    return [m["message_parts"][0]["text"]["content"] for m in standin.messages(cid)
            if m["actor_type"] == "agent" and m["message_type"] == kind]


def failed_check(app):
    with app.app_context():
        return next(c for c in diagnostics.run() if c.id == "failed_events")


def test_a_message_that_keeps_crashing_the_worker_goes_to_a_human(app, client, standin,
                                                                   connected, monkeypatch):
    flow = Flow(app, client, standin, connected)
    cid = flow.conversation()
    flow.customer_says(cid, "where is my parcel?")
    monkeypatch.setattr(step, "decide", boom)
    crash_until_failed(flow)
    with app.app_context():
        session = db.session.scalar(select(ChatSession).where(ChatSession.conversation_id == cid))
        assert session.status == "handed_off"
        assert session.handoff_reason.startswith("processing failed: the message_create "
                                                 "crashed the worker 5 times (RuntimeError")
    [message] = texts(standin, cid, "normal")
    assert "member of our team" in message  # the customer is not left in silence
    [note] = texts(standin, cid, "private")
    assert "processing failed" in note and "a bug in the bridge" not in note  # no internals
    check = failed_check(app)
    assert check.status == "fail" and "events retry --all-failed" in check.fix


def test_events_retry_processes_them_again_and_the_check_passes(app, client, standin,
                                                                 connected, monkeypatch, runner):
    flow = Flow(app, client, standin, connected)
    cid = flow.conversation()
    flow.customer_says(cid, "hello")
    monkeypatch.setattr(step, "decide", boom)
    crash_until_failed(flow)
    monkeypatch.undo()  # the cause is fixed
    listed = runner.invoke(args=["events", "list"])
    assert "message_create" in listed.output and "crashed" in listed.output
    result = runner.invoke(args=["events", "retry", "--all-failed"])
    assert result.exit_code == 0 and "1 event(s) queued" in result.output
    flow.run()
    with app.app_context():
        assert db.session.scalar(select(Event.status)) == "processed"
    assert failed_check(app).status == "ok"


def test_events_retry_says_what_is_wrong_with_its_arguments(app, runner):
    assert "give one EVENT_ID or --all-failed" in runner.invoke(args=["events", "retry"]).output
    missing = runner.invoke(args=["events", "retry", "99"])
    assert missing.exit_code == 1 and "no event 99" in missing.output


def test_a_message_that_cannot_be_read_goes_to_a_human_too(app, client, standin, connected):
    flow = Flow(app, client, standin, connected)
    cid = flow.conversation()
    incomplete = {"action": "message_create", "actor": {"actor_type": "user"},
                  "data": {"message": {"conversation_id": cid}}}  # no id, no parts
    assert flow.post(incomplete).status_code == 200
    flow.run()
    with app.app_context():
        assert db.session.scalar(select(Event.status)) == "failed"
        session = db.session.scalar(select(ChatSession).where(ChatSession.conversation_id == cid))
        assert session.status == "handed_off"
        assert session.handoff_reason.startswith("processing failed: the message_create could "
                                                 "not be read")
    assert texts(standin, cid, "private")
