"""Index the timeline by kind and time for the diagnostics and dedup pages.

Revision ID: 0004_timeline_kind_index
Revises: 0003_ai_agent
"""

from alembic import op

revision = "0004_timeline_kind_index"
down_revision = "0003_ai_agent"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("timeline_entry") as batch:
        batch.create_index("ix_timeline_kind_at", ["kind", "at"], unique=False)


def downgrade():
    with op.batch_alter_table("timeline_entry") as batch:
        batch.drop_index("ix_timeline_kind_at")
