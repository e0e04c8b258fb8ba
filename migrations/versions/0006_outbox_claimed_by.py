"""Which worker sends an outbox row, so workers sharing a PostgreSQL database can tell
their own rows in flight from those a dead worker left behind.

Revision ID: 0006_outbox_claimed_by
Revises: 0005_worker_lease
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_outbox_claimed_by"
down_revision = "0005_worker_lease"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("outbox_item", sa.Column("claimed_by", sa.String(length=255), nullable=True))


def downgrade():
    with op.batch_alter_table("outbox_item") as batch:
        batch.drop_column("claimed_by")
