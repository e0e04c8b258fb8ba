"""Suggestions for the knowledge base: a question the AI handed off and a human's reply.

Revision ID: 0014_suggestions
Revises: 0013_article_phrasings
"""

import sqlalchemy as sa
from alembic import op

revision = "0014_suggestions"
down_revision = "0013_article_phrasings"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "suggestion",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("conversation_id", sa.String(length=255), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("agent_name", sa.String(length=255), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=True),
        sa.Column("decided_by", sa.String(length=255), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_suggestion_status", "suggestion", ["status"])
    with op.batch_alter_table("session") as batch:
        batch.add_column(sa.Column("gap_question", sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table("session") as batch:
        batch.drop_column("gap_question")
    op.drop_index("ix_suggestion_status", table_name="suggestion")
    op.drop_table("suggestion")
