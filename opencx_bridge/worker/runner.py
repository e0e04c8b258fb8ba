"""The worker: threads that process stored events and deliver the outbox.

One "lane" per conversation and stage: a conversation's events are handled in arrival
order by one thread at a time, while other conversations proceed on the other threads.
The intake wakes the threads; without a wake-up (another process) they poll every second.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime

from flask import Flask
from sqlalchemy import func, or_, select

from opencx_bridge.ai import Responder
from opencx_bridge.engine import responders, step
from opencx_bridge.extensions import WORKER, db
from opencx_bridge.outbox import delivery
from opencx_bridge.scheduler import autoresolve, freshchat_check, profiles, prune, stranded
from opencx_bridge.store import sqlite
from opencx_bridge.store.models import Event, OutboxItem, utcnow
from opencx_bridge.worker import leadership
from opencx_bridge.worker.leadership import Leadership

log = logging.getLogger(__name__)
EXTENSION = WORKER
IDLE_POLL_SECONDS = 1.0
HOUSEKEEPING_EVERY = 600.0
AUTO_RESOLVE_EVERY = 1.0


class Worker:
    def __init__(self, app: Flask, threads: int, responder: Responder | None = None,
                 clock: Callable[[], datetime] = utcnow):
        self.app = app
        self.thread_count = max(1, threads)
        self.responder = responder  # None: the one the settings ask for, per question
        self.clock = clock
        self._wakeup = threading.Condition()
        self._busy: set[tuple[str, str | None]] = set()
        self._busy_lock = threading.Lock()
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._last_housekeeping = 0.0
        self._last_auto_resolve = 0.0
        self._scheduler = threading.Lock()
        self._leadership: Leadership | None = None  # made in the first app context
        self._leadership_made = threading.Lock()

    # lifecycle -------------------------------------------------------------------------
    def start(self) -> None:
        for number in range(self.thread_count):
            thread = threading.Thread(target=self._run, name=f"opencx-worker-{number}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping.set()
        self.wake()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        still_sending = any(t.is_alive() for t in self._threads)
        if self._leadership is not None and not still_sending:  # else: at the process end
            self._leadership.stop()

    def wake(self) -> None:
        with self._wakeup:
            self._wakeup.notify_all()

    @property
    def alive(self) -> bool:
        return bool(self._threads) and all(t.is_alive() for t in self._threads)

    @property
    def standby(self) -> bool:
        return self._leadership is not None and self._leadership.standby

    @property
    def owner(self) -> str | None:
        return self._leadership.owner if self._leadership is not None else None

    def _make_leadership(self) -> Leadership:
        with self._leadership_made:
            if self._leadership is None:
                with self.app.app_context():
                    self._leadership = Leadership(db.engine, on_promoted=self._after_promotion)
            return self._leadership

    def _may_work(self) -> bool:
        """Checks the lock when due, so the first decision comes before any work."""
        leadership = self._make_leadership()
        leadership.check()
        return leadership.may_work

    def _after_promotion(self) -> None:
        """The new active worker on SQLite: rows the previous one left in flight are checked
        and sent again. (On PostgreSQL the scheduler frees those of gone workers.)"""
        if self._leadership.shares_work:
            return
        with self.app.app_context():
            released = delivery.reset_in_flight()
        if released:
            log.warning("%d outbox row(s) were in flight at the last stop; checking and "
                        "sending again", released)

    # the loop --------------------------------------------------------------------------
    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                did_work = self.run_once()
            except Exception:  # noqa: BLE001 - a bug must not kill the thread for good
                log.exception("worker iteration failed")
                did_work = False
            if not did_work:
                with self._wakeup:
                    self._wakeup.wait(IDLE_POLL_SECONDS)

    def run_once(self) -> bool:
        """Work one event lane and one outbox lane if any is free. True when work was done."""
        with self.app.app_context():
            try:
                if not self._may_work():
                    return False  # another worker is active on this SQLite database
                did_events = self._drain("event", _event_lanes(), self._events)
                did_outbox = self._drain("outbox", delivery.lanes(), self._deliver)
                did_schedule = self._housekeeping()
                return did_events or did_outbox or did_schedule
            finally:
                db.session.rollback()
                db.session.remove()

    def _deliver(self, conversation_id: str) -> bool:
        return delivery.deliver_next(conversation_id, self._stopping, self.owner)

    def _events(self, conversation_id: str | None) -> bool:
        responder = self.responder or responders.build()
        try:
            return step.process_next(conversation_id, responder, self._stopping,
                                           self.clock())
        except step.EventCrashed as crashed:  # park it instead of spinning on it
            db.session.rollback()
            log.error("event processing failed in conversation %s", conversation_id,
                      exc_info=crashed.__cause__)
            step.park_after_crash(crashed)
            return False

    def _drain(self, stage: str, lanes: list, step) -> bool:
        for conversation_id in lanes:
            key = (stage, conversation_id)
            if not self._claim(key):
                continue
            try:
                did_work = False
                while not self._stopping.is_set() and step(conversation_id):
                    did_work = True
                return did_work
            except Exception:
                db.session.rollback()
                raise
            finally:
                self._release(key)
        return False

    def _release_orphans(self) -> None:
        gone = leadership.gone(db.engine, delivery.in_flight_owners())
        released = delivery.release_orphans(gone)
        if released:
            log.warning("%d outbox row(s) were in flight in a worker that stopped; checking "
                        "and sending again", released)

    def _claim(self, key) -> bool:
        with self._busy_lock:
            if key in self._busy:
                return False
            self._busy.add(key)
            return True

    def _release(self, key) -> None:
        with self._busy_lock:
            self._busy.discard(key)

    def _housekeeping(self) -> bool:
        """The scheduler's jobs, run by the leader only: auto-resolve, stranded notes, spare
        profile reads and a WAL checkpoint each second (and, when workers share the
        database, free rows a dead one left in flight),
        pruning every ten minutes, the diagnostics' questions to Freshchat every five."""
        if not (self._leadership is not None and self._leadership.leading):
            return False
        resolved = 0  # and profiles read: work done
        due = time.monotonic() - self._last_auto_resolve >= AUTO_RESOLVE_EVERY
        if due and self._scheduler.acquire(blocking=False):  # one thread at a time
            try:
                self._last_auto_resolve = time.monotonic()
                resolved = autoresolve.run_due(self.clock())
                stranded.note_due(self.clock())
                resolved += profiles.fetch_spare()
                if self._leadership.shares_work:
                    self._release_orphans()
                sqlite.checkpoint(db.engine)
            finally:
                self._scheduler.release()
        now = time.monotonic()
        if now - self._last_housekeeping >= HOUSEKEEPING_EVERY:
            self._last_housekeeping = now
            prune.prune_dedup_keys()
            prune.prune_refused_webhooks()
        self._ask_freshchat_when_due()
        return resolved > 0

    def _ask_freshchat_when_due(self) -> None:
        """The diagnostics' questions to Freshchat, every FRESHCHAT_CHECK_EVERY_SECONDS."""
        every = float(self.app.config.get("FRESHCHAT_CHECK_EVERY_SECONDS") or 0)
        if not freshchat_check.due(every, utcnow()) or not self._scheduler.acquire(blocking=False):
            return
        try:
            freshchat_check.refresh()
        except Exception:  # noqa: BLE001 - the page then says how old the last answer is
            log.exception("asking Freshchat for the diagnostics failed")
            db.session.rollback()
        finally:
            self._scheduler.release()


def _event_lanes(limit: int = 50) -> list[str | None]:
    """Conversations whose oldest pending event is due, oldest first: one told to wait (not
    connected, a failed read) blocks its lane until then, so nothing in it is worth a look
    before. A conversation whose reply is held until its newer event is read (most often
    the echo of the bridge's own claim) goes first: that event costs no call and lets a
    customer's reply go out, instead of waiting behind every newer chat's first read."""
    due = or_(Event.next_attempt_at.is_(None), Event.next_attempt_at <= utcnow())
    query = (select(Event.conversation_id).where(Event.status == "pending")
             .group_by(Event.conversation_id).having(func.min(Event.id).in_(
                 select(Event.id).where(Event.status == "pending", due)))
             .order_by(func.min(Event.id)).limit(limit))
    lanes = list(db.session.scalars(query))
    held = set(db.session.scalars(
        select(OutboxItem.conversation_id).where(OutboxItem.status == "pending",
                                                 OutboxItem.kind == "reply",
                                                 OutboxItem.conversation_id.in_(lanes))))
    return sorted(lanes, key=lambda cid: cid not in held)  # stable: oldest first otherwise


# app integration ---------------------------------------------------------------------------
def init_app(app: Flask) -> None:
    app.extensions[EXTENSION] = None


def start(app: Flask, responder: Responder | None = None) -> Worker:
    worker = app.extensions.get(EXTENSION)
    if worker is None:
        threads = int(app.config["WORKER_THREADS"])
        worker = Worker(app, threads, responder)
        app.extensions[EXTENSION] = worker
        worker.start()
    return worker


def supervise(app: Flask, supervisor):
    """The worker runs in a child process (worker_process.Supervisor): wake and status go
    to it."""
    app.extensions[EXTENSION] = supervisor
    return supervisor


def wake(app: Flask) -> None:
    worker = app.extensions.get(EXTENSION)
    if worker is not None:
        worker.wake()


def status(app: Flask) -> str:
    worker = app.extensions.get(EXTENSION)
    if worker is None:
        return "not running in this process"
    if not worker.alive:
        return "dead"
    return "standby (another worker is active on this database)" if worker.standby else "alive"
