"""AI agent: settings audit trail, auto-resolve deadline on sessions.

Revision ID: 0003_ai_agent
Revises: 0002_knowledge_base
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_ai_agent"
down_revision = "0002_knowledge_base"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "setting_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("who", sa.String(length=320), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("old", sa.Text(), nullable=False),
        sa.Column("new", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("session") as batch:
        batch.add_column(sa.Column("auto_resolve_at", sa.DateTime(), nullable=True))
        batch.create_index("ix_session_auto_resolve_at", ["auto_resolve_at"], unique=False)


def downgrade():
    with op.batch_alter_table("session") as batch:
        batch.drop_index("ix_session_auto_resolve_at")
        batch.drop_column("auto_resolve_at")
    op.drop_table("setting_change")
