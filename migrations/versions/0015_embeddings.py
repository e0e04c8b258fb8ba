"""Embeddings of the articles' phrasings (setting embeddings_model), and how the embeddings
server last answered.

Revision ID: 0015_embeddings
Revises: 0014_suggestions
"""

import sqlalchemy as sa
from alembic import op

revision = "0015_embeddings"
down_revision = "0014_suggestions"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "phrasing_embedding",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("model", sa.String(length=255), nullable=False),
        sa.Column("text_hash", sa.String(length=64), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("model", "text_hash"),
    )
    op.create_table(
        "embeddings_state",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("model", sa.String(length=255), nullable=True),
        sa.Column("last_ok_at", sa.DateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_error_at", sa.DateTime(), nullable=True),
    )


def downgrade():
    op.drop_table("embeddings_state")
    op.drop_table("phrasing_embedding")
