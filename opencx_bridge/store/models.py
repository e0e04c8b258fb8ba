"""The database tables, typed with SQLAlchemy 2.0. No behaviour lives here."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from opencx_bridge.extensions import db

ID_LENGTH = 255  # Freshchat's ids: UUIDs, numbers, and legacy `{app}_{user}_feedback` forms


def utcnow() -> datetime:
    """Naive UTC, the form SQLite hands back, so comparisons never mix kinds."""
    return datetime.now(UTC).replace(tzinfo=None)


class User(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))  # admin | viewer
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]
    # Part of the id in the session cookie: raising it ends every session of the user.
    # It starts at random: SQLite may give a deleted user's id to the next one created.
    session_version: Mapped[int] = mapped_column(default=lambda: secrets.randbelow(2**30),
                                                 server_default="0")

    # Flask-Login protocol
    is_active = True
    is_authenticated = True
    is_anonymous = False

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


class Integration(db.Model):
    """The one Freshchat connection (row id 1). Secrets are Fernet-encrypted."""

    id: Mapped[int] = mapped_column(primary_key=True)
    domain: Mapped[str | None] = mapped_column(String(255))
    access_token_enc: Mapped[str | None] = mapped_column(Text)
    default_agent_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    default_agent_email: Mapped[str | None] = mapped_column(String(320))
    default_agent_name: Mapped[str | None] = mapped_column(String(255))
    default_agent_avatar_url: Mapped[str | None] = mapped_column(Text)
    auto_handle_all: Mapped[bool] = mapped_column(default=True)
    webhook_public_key: Mapped[str | None] = mapped_column(Text)
    webhook_token_enc: Mapped[str | None] = mapped_column(Text)
    webhook_token_digest: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(32), default="disconnected")
    connected_at: Mapped[datetime | None]
    saved_at: Mapped[datetime | None]
    last_webhook_at: Mapped[datetime | None]
    last_api_error: Mapped[str | None] = mapped_column(Text)
    last_api_error_at: Mapped[datetime | None]
    unauthorized_since_save: Mapped[int] = mapped_column(default=0)


class RevokedWebhook(db.Model):
    """A webhook URL that was disconnected; hits are counted for diagnostics."""

    id: Mapped[int] = mapped_column(primary_key=True)
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    revoked_at: Mapped[datetime] = mapped_column(default=utcnow)
    hits: Mapped[int] = mapped_column(default=0)
    last_hit_at: Mapped[datetime | None]


class RefusedWebhook(db.Model):
    """A webhook the intake refused (signature, body, size), kept a week: diagnostics say
    what was refused and why, where Freshchat only shows its own retries."""

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    status: Mapped[int]  # the HTTP status answered: 400, 401 or 413
    reason: Mapped[str] = mapped_column(Text)


class RateBucket(db.Model):
    """The shared Freshchat call budget (see pacing.py); one row per bucket."""

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    tokens: Mapped[float]
    updated: Mapped[float]  # epoch seconds: comparable across processes


class Setting(db.Model):
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)  # JSON
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class SettingChange(db.Model):
    """The audit trail: who changed which setting when, old → new (secrets masked)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    who: Mapped[str] = mapped_column(String(320))
    key: Mapped[str] = mapped_column(String(64))
    old: Mapped[str] = mapped_column(Text)
    new: Mapped[str] = mapped_column(Text)


class DedupKey(db.Model):
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class Event(db.Model):
    """A webhook delivery as received. Processed in id order per conversation."""

    id: Mapped[int] = mapped_column(primary_key=True)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    action: Mapped[str] = mapped_column(String(64))
    conversation_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    dedup_key: Mapped[str] = mapped_column(String(255))
    retry_count: Mapped[int | None]
    payload: Mapped[str] = mapped_column(Text)  # the raw body, as verified
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    processed_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_event_status_conversation", "status", "conversation_id", "id"),)


class Contact(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str | None] = mapped_column(String(320), unique=True)  # lower-cased
    name: Mapped[str | None] = mapped_column(String(255))
    phone: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ContactUser(db.Model):
    """A Freshchat user id behind a contact; one contact may have several."""

    freshchat_user_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contact.id"), index=True)
    fetched_at: Mapped[datetime] = mapped_column(default=utcnow)


class ChatSession(db.Model):
    """One per Freshchat conversation."""

    __tablename__ = "session"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(ID_LENGTH), unique=True)
    app_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    channel_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    freshchat_conversation_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    freshchat_channel_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    routing_mode: Mapped[str] = mapped_column(String(16))  # auto | assigned_only
    assigned_agent_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    assigned_agent_name: Mapped[str | None] = mapped_column(String(255))
    awaiting_reply: Mapped[bool] = mapped_column(default=False)
    pending_question: Mapped[str | None] = mapped_column(Text)  # customer text not answered yet
    handoff_reason: Mapped[str | None] = mapped_column(Text)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id"), index=True)
    freshchat_user_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    freshchat_url: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    last_customer_message_at: Mapped[datetime | None]
    last_ai_reply_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    auto_resolve_at: Mapped[datetime | None] = mapped_column(index=True)  # customer quiet until
    stranded_noted_at: Mapped[datetime | None]  # the waiting message the team was told of
    # The moments the overview counts (engine/milestones.py stamps them; first one wins).
    first_customer_message_at: Mapped[datetime | None]
    first_ai_reply_at: Mapped[datetime | None]  # delivered, not queued: what the customer saw
    first_human_message_at: Mapped[datetime | None]
    handed_off_at: Mapped[datetime | None]
    handoff_kind: Mapped[str | None] = mapped_column(String(32))  # engine/rules/reasons.py
    taken_over_at: Mapped[datetime | None]
    first_resolved_at: Mapped[datetime | None]
    reopened_at: Mapped[datetime | None]  # the first reopen after the first resolution
    reopened_after_hours: Mapped[float | None]  # from the first resolution to that reopen
    first_reply_seconds: Mapped[float | None]  # first customer message → first AI message
    message_count: Mapped[int] = mapped_column(default=0, server_default="0")
    # The question the AI handed off for want of an answer, until a human answers it: the
    # pair becomes a suggestion for the knowledge base (kb/suggestions.py).
    gap_question: Mapped[str | None] = mapped_column(Text)


class Message(db.Model):
    """The transcript: what the customer, the AI and reps wrote."""

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("session.id"), index=True)
    freshchat_message_id: Mapped[str | None] = mapped_column(String(ID_LENGTH), unique=True)
    author: Mapped[str] = mapped_column(String(16))  # customer | ai | agent | note
    actor_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TimelineEntry(db.Model):
    """Everything that happened to a conversation: events, decisions, calls."""

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(16))  # event, duplicate, decision, skip, call, error
    summary: Mapped[str] = mapped_column(Text)
    detail: Mapped[str | None] = mapped_column(Text)  # JSON

    __table_args__ = (
        Index("ix_timeline_conversation", "conversation_id", "id"),
        Index("ix_timeline_kind_at", "kind", "at"),  # diagnostics: duplicates, skips, 429s
    )


class OutboxItem(db.Model):
    """A Freshchat write: a row first, then a request. Sent in id order per conversation."""

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    kind: Mapped[str] = mapped_column(String(16))  # assign | reply | note | unassign | resolve
    body: Mapped[str] = mapped_column(Text)  # JSON request body
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_status: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    latency_ms: Mapped[float | None]
    uncertain: Mapped[bool] = mapped_column(default=False)  # sent, but no answer seen
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    retried_at: Mapped[datetime | None]  # a person asked to retry: the horizon restarts
    sent_at: Mapped[datetime | None]
    response_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    claimed_by: Mapped[str | None] = mapped_column(String(255))  # the worker sending it

    __table_args__ = (
        Index("ix_outbox_status_conversation", "status", "conversation_id", "id"),
    )


# The knowledge base's articles: one answer, asked as its question or any of its phrasings.
class Article(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    question: Mapped[str] = mapped_column(String(500))  # the title
    answer: Mapped[str] = mapped_column(Text)
    topic: Mapped[str | None] = mapped_column(String(64))  # lower-cased
    tags: Mapped[str] = mapped_column(Text, default="")  # comma list
    # Other ways customers ask it, one per line (the question itself not repeated).
    phrasings: Mapped[str] = mapped_column(Text, default="", server_default="")
    # Where an imported article came from ("csv:<question words>", "md:<path>#<slug>"),
    # so a re-import updates it in place. None for articles written in the dashboard.
    source_key: Mapped[str | None] = mapped_column(String(512), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


# A question the AI handed off and the reply a human gave, offered to an admin for the
# knowledge base. Nothing reaches an article without an admin's click.
class Suggestion(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)
    agent_name: Mapped[str | None] = mapped_column(String(255))  # who answered, if known
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    # open | added (a new article) | phrasing (added to an article) | dismissed
    article_id: Mapped[int | None]  # the article it became part of
    decided_by: Mapped[str | None] = mapped_column(String(255))
    decided_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


# Embeddings of the articles' phrasings, by model and text (kb/semantic.py): a phrasing that
# changes gets a new row; rows no phrasing uses any more are deleted when new ones come.
class PhrasingEmbedding(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    model: Mapped[str] = mapped_column(String(255))
    text_hash: Mapped[str] = mapped_column(String(64))  # sha256 of the phrasing
    vector: Mapped[bytes] = mapped_column(LargeBinary)  # float32, little-endian
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("model", "text_hash"),)


# How the embeddings server last answered, for diagnostics (one row, id 1).
class EmbeddingsState(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    model: Mapped[str | None] = mapped_column(String(255))
    last_ok_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None]
