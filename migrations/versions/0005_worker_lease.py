"""One active worker per database: the worker lease.

Revision ID: 0005_worker_lease
Revises: 0004_timeline_kind_index
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_worker_lease"
down_revision = "0004_timeline_kind_index"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "worker_lease",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("owner", sa.String(length=255), nullable=False),
        sa.Column("heartbeat", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade():
    op.drop_table("worker_lease")
