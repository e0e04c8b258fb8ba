"""Leadership is a lock the OS or the database holds for a live worker, not a table row
with a heartbeat: the worker lease goes.

Revision ID: 0007_drop_worker_lease
Revises: 0006_outbox_claimed_by
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_drop_worker_lease"
down_revision = "0006_outbox_claimed_by"
branch_labels = None
depends_on = None


def upgrade():
    op.drop_table("worker_lease")


def downgrade():
    op.create_table(
        "worker_lease",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("owner", sa.String(length=255), nullable=False),
        sa.Column("heartbeat", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
