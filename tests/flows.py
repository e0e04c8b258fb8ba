"""Helpers for tests that drive the worker by hand: webhooks in through the test client,
then `Worker.run_once()` until nothing is left (deterministic: no threads, no sleeping)."""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import urlsplit

from opencx_bridge.ai import Answer
from opencx_bridge.extensions import db
from opencx_bridge.freshchat.signature import sign
from opencx_bridge.store.models import ChatSession, Event, OutboxItem, RateBucket, utcnow
from opencx_bridge.worker.runner import Worker


class FixedResponder:
    """A responder for tests about routing and delivery, not answers: always the same text,
    fully confident."""

    TEXT = "Thanks for your message! We have received it and will get back to you shortly."

    def respond(self, question, history):
        return Answer(text=self.TEXT, confidence=1.0)


class Flow:
    def __init__(self, app, client, standin, webhook_url: str, responder=None, clock=None):
        self.app, self.client, self.standin = app, client, standin
        self.path = urlsplit(webhook_url).path
        self.worker = Worker(app, threads=1, responder=responder or FixedResponder(),
                             clock=clock or utcnow)
        standin.echo_webhooks = False  # nothing listens on HTTP here; tests post echoes by hand

    def conversation(self, email: str | None = None, assigned: str | None = None) -> str:
        user = self.standin.add_user(email=email, first_name="Casey", last_name="Customer")
        conversation = self.standin.add_conversation(
            user["id"], assigned_agent_id=assigned, status="assigned" if assigned else "new")
        return conversation["conversation_id"]

    def post(self, payload: dict, retry_count: int | None = None):
        raw = json.dumps(payload, ensure_ascii=False).encode()
        headers = {"X-Freshchat-Signature": sign(raw, self.standin.private_key)}
        if retry_count is not None:
            headers["X-Retry-Count"] = str(retry_count)
        return self.client.post(self.path, data=raw, headers=headers,
                                content_type="application/json")

    def customer_says(self, cid: str, text: str = "", parts: list | None = None) -> dict:
        user_id = self.standin.conversation(cid)["users"][0]["id"]
        message = self.standin.add_message(cid, actor_type="user", actor_id=user_id, text=text,
                                           parts=parts)
        assert self.post(self.standin.message_event(message)).status_code == 200
        return message

    def run(self, rounds: int = 20) -> None:
        """Let the worker do everything that is due now."""
        for _ in range(rounds):
            if not self.worker.run_once():
                return

    def time_passes(self, seconds: float) -> None:
        """Move every scheduled retry `seconds` into the past instead of sleeping."""
        with self.app.app_context():
            for model in (OutboxItem, Event):
                for row in db.session.scalars(db.select(model)
                                              .where(model.next_attempt_at.is_not(None))):
                    row.next_attempt_at -= timedelta(seconds=seconds)
            db.session.commit()

    def spare_budget(self) -> None:
        """A quiet moment: the rate budget refills in full, the last webhook is a while
        ago, and the worker runs: the reads that wait for spare budget (customers'
        profiles) are made now."""
        for _ in range(50):  # one read per full bucket: one user each round
            with self.app.app_context():
                db.session.execute(db.update(RateBucket).values(updated=0.0))
                for event in db.session.scalars(db.select(Event)):
                    event.received_at -= timedelta(minutes=1)
                db.session.commit()
                missing = db.session.scalar(db.select(db.func.count(ChatSession.id)).where(
                    ChatSession.contact_id.is_(None), ChatSession.freshchat_user_id.is_not(None)))
            if not missing:
                return
            self.worker._last_auto_resolve = 0.0  # the scheduler's next pass is due
            self.run()

    def replies(self, cid: str) -> list[dict]:
        ai = self.standin.ai_agent["id"]
        return [m for m in self.standin.messages(cid) if m["actor_type"] == "agent"
                and m["actor_id"] == ai and m["message_type"] == "normal"]

    def outbox(self, cid: str) -> list[OutboxItem]:
        with self.app.app_context():
            rows = db.session.scalars(db.select(OutboxItem)
                                      .where(OutboxItem.conversation_id == cid)
                                      .order_by(OutboxItem.id))
            result = list(rows)
            db.session.expunge_all()
            return result
