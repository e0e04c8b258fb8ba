"""Knowledge base: the article table and, on SQLite, its FTS5 index.

Revision ID: 0002_knowledge_base
Revises: 0002_delivery

`article_fts` is an external-content FTS5 table: it stores only the index, reads the text
from `article`, and three triggers keep it in step with every insert, update and delete.
Other databases get only the table; search.py then ranks with its own BM25.

Caution for later migrations: a batch (copy-and-rename) alteration of `article` on SQLite
drops these triggers; re-create them and `rebuild` the index in the same migration.
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_knowledge_base"
down_revision = "0002_delivery"
branch_labels = None
depends_on = None

COLUMNS = "question, answer, topic, tags"
FTS_STATEMENTS = (
    f"""CREATE VIRTUAL TABLE article_fts USING fts5(
        {COLUMNS}, content='article', content_rowid='id',
        tokenize='porter unicode61 remove_diacritics 2')""",
    f"""CREATE TRIGGER article_fts_insert AFTER INSERT ON article BEGIN
        INSERT INTO article_fts(rowid, {COLUMNS})
        VALUES (new.id, new.question, new.answer, new.topic, new.tags);
    END""",
    f"""CREATE TRIGGER article_fts_delete AFTER DELETE ON article BEGIN
        INSERT INTO article_fts(article_fts, rowid, {COLUMNS})
        VALUES ('delete', old.id, old.question, old.answer, old.topic, old.tags);
    END""",
    f"""CREATE TRIGGER article_fts_update AFTER UPDATE ON article BEGIN
        INSERT INTO article_fts(article_fts, rowid, {COLUMNS})
        VALUES ('delete', old.id, old.question, old.answer, old.topic, old.tags);
        INSERT INTO article_fts(rowid, {COLUMNS})
        VALUES (new.id, new.question, new.answer, new.topic, new.tags);
    END""",
    "INSERT INTO article_fts(article_fts) VALUES ('rebuild')",
)


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def upgrade():
    op.create_table(
        "article",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("question", sa.String(length=500), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("topic", sa.String(length=64), nullable=True),
        sa.Column("tags", sa.Text(), nullable=False),
        sa.Column("source_key", sa.String(length=512), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source_key"),
    )
    if _sqlite():
        for statement in FTS_STATEMENTS:
            op.execute(statement)


def downgrade():
    if _sqlite():
        for trigger in ("article_fts_update", "article_fts_delete", "article_fts_insert"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS article_fts")
    op.drop_table("article")
