"""The knowledge-base article table. On SQLite an FTS5 index (`article_fts`) shadows it,
kept in sync by triggers created in the 0002_knowledge_base migration."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..models import utcnow


class Article(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    question: Mapped[str] = mapped_column(String(500))  # the title
    answer: Mapped[str] = mapped_column(Text)
    topic: Mapped[str | None] = mapped_column(String(64))  # lower-cased
    tags: Mapped[str] = mapped_column(Text, default="")  # comma list
    # Where an imported article came from ("csv:<question words>", "md:<path>#<slug>"),
    # so a re-import updates it in place. None for articles written in the dashboard.
    source_key: Mapped[str | None] = mapped_column(String(512), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
