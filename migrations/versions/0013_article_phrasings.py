"""Articles get phrasings (other ways customers ask them, one per line); the SQLite FTS5
index goes: every database now ranks with kb/ranking.py.

Revision ID: 0013_article_phrasings
Revises: 0012_refused_webhook

A downgrade re-creates the index with 0002's own statements, read from that file.
"""

import importlib.util
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision = "0013_article_phrasings"
down_revision = "0012_refused_webhook"
branch_labels = None
depends_on = None

TRIGGERS = ("article_fts_update", "article_fts_delete", "article_fts_insert")


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def upgrade():
    if _sqlite():
        for trigger in TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS article_fts")
    with op.batch_alter_table("article") as batch:
        batch.add_column(sa.Column("phrasings", sa.Text(), nullable=False, server_default=""))


def downgrade():
    with op.batch_alter_table("article") as batch:
        batch.drop_column("phrasings")
    if _sqlite():
        for statement in _fts_statements():
            op.execute(statement)


def _fts_statements() -> tuple[str, ...]:
    path = Path(__file__).with_name("0002_knowledge_base.py")
    spec = importlib.util.spec_from_file_location("opencx_migration_0002", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.FTS_STATEMENTS
