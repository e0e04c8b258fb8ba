"""Customers' profiles, read when the rate budget has room to spare.

A reply does not need the customer's name or email, so the engine does not read the
profile before answering (a handoff note reads it, engine/step.py). This job fills in the
contact of the other sessions afterwards, one user at a time, only from a full budget
bucket, only while no customer is waiting and no webhook came in the last few seconds:
the dashboard's contact column is the last thing a backlog should pay for. Each
Freshchat user is read once.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select, update

from opencx_bridge.extensions import db
from opencx_bridge.freshchat import errors
from opencx_bridge.outbox import api_calls
from opencx_bridge.store import contacts, integration, queue
from opencx_bridge.store.models import ChatSession, Event, utcnow

BATCH = 5  # users per pass (a pass runs every second while the worker is idle)
QUIET = timedelta(seconds=3)  # no webhook for this long: customers are not writing now


def fetch_spare(batch: int = BATCH) -> int:
    """Read the profiles of up to `batch` users whose sessions have no contact; returns
    how many were linked."""
    creds = integration.credentials()
    if creds is None or api_calls.delivery_paused() or queue.count() or _busy(utcnow()):
        return 0
    newest = func.max(ChatSession.id)
    users = list(db.session.execute(  # newest first: the sessions people look at now
        select(ChatSession.freshchat_user_id, func.max(ChatSession.conversation_id), newest)
        .where(ChatSession.contact_id.is_(None), ChatSession.freshchat_user_id.is_not(None))
        .group_by(ChatSession.freshchat_user_id).order_by(newest.desc()).limit(batch)))
    linked = 0
    with api_calls.ApiJob(creds, spare_only=True) as job:
        for user_id, conversation_id, _ in users:
            try:
                user = job.client.get_user(user_id)
            except api_calls.NoSpareBudget:
                break
            except errors.FreshchatError as exc:
                if exc.retryable or isinstance(exc, errors.Unauthorized):
                    api_calls.note_failure(exc)
                    job.write_timeline(conversation_id)
                    db.session.commit()
                    break
                user = {}  # no such user (404) or not ours to read: a contact without details
            contact_id = contacts.link_user(user_id, user)
            db.session.execute(update(ChatSession)
                               .where(ChatSession.freshchat_user_id == user_id,
                                      ChatSession.contact_id.is_(None))
                               .values(contact_id=contact_id))
            job.write_timeline(conversation_id)
            db.session.commit()
            linked += 1
    return linked


def _busy(now: datetime) -> bool:
    """A webhook came a moment ago: chats are under way, and a read now would only take
    the database's attention from them."""
    last = db.session.scalar(select(Event.received_at).order_by(Event.id.desc()).limit(1))
    return last is not None and now - last < QUIET
