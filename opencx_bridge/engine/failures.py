"""When the worker gives up on an event: nobody is left waiting in silence.

An event that cannot be parsed, or that crashed the worker MAX_CRASHES times, is settled
"failed". The conversation then goes to a human, with a private note that says why (or, when
a human has it already, the note alone); `flask events retry` tries such events again once
the cause is fixed, and the `failed_events` diagnostic fails while any are left.
"""

from __future__ import annotations

import logging

from sqlalchemy import func, select, update

from opencx_bridge.engine import replies, writes
from opencx_bridge.engine.rules import types as engine
from opencx_bridge.extensions import db
from opencx_bridge.outbox import delivery
from opencx_bridge.store import integration, timeline
from opencx_bridge.store.models import ChatSession, Event, utcnow
from opencx_bridge.store.writes import commits

log = logging.getLogger(__name__)
FAILED_TITLE = "AI handoff: the bridge could not process a message in this conversation."


def hand_over(event: Event, why: str) -> None:
    """In the caller's transaction, in a savepoint: if this fails too, the event is still
    settled failed (and counted by the diagnostic); the log has the error."""
    if not event.conversation_id:
        return
    db.session.flush()  # the event's own settling: an error here is the caller's to see
    try:
        with db.session.begin_nested():
            _hand_over(event, why)
    except Exception:  # noqa: BLE001 - the handover itself failed: logged, the event stays failed
        log.exception("could not hand conversation %s to a human", event.conversation_id)


def _hand_over(event: Event, why: str) -> None:
    creds = integration.credentials()
    cid, now = event.conversation_id, utcnow()
    session = db.session.scalar(select(ChatSession).where(ChatSession.conversation_id == cid))
    if session is None:
        auto = creds is None or integration.get().auto_handle_all
        session = ChatSession(conversation_id=cid, status=engine.OPEN,
                              routing_mode=engine.AUTO if auto else engine.ASSIGNED_ONLY)
        db.session.add(session)
        db.session.flush()
    reason = f"processing failed: {why}"
    key = f"event:{event.id}:failed"
    if creds is not None and session.status == engine.OPEN:
        writes.hand_off(session, reason, replies.handoff_text(now), replies.history(session),
                        creds.agent_id, key)
        timeline.add(cid, "decision", f"handoff: {reason}", {"event_id": event.id})
    elif creds is not None:  # a human has it already: tell them what the bridge missed
        note = replies.note_text(FAILED_TITLE, reason, replies.history(session), session)
        delivery.enqueue(cid, "note", delivery.message_body(note, creds.agent_id, private=True),
                         key + ":note")
    if session.status == engine.HANDED_OFF:
        session.handoff_reason = reason  # the session page says "processing failed: …"


def count() -> int:
    return db.session.scalar(select(func.count(Event.id)).where(Event.status == "failed")) or 0


@commits
def retry(event_ids: list[int] | None = None) -> int:
    """Failed events (all of them when no ids are given) are processed again."""
    query = update(Event).where(Event.status == "failed")
    if event_ids is not None:
        query = query.where(Event.id.in_(event_ids))
    result = db.session.execute(query.values(status="pending", attempts=0, error=None,
                                             next_attempt_at=None, processed_at=None))
    return result.rowcount or 0
