"""Delivery: shared rate budget, uncertain outbox rows, manual retries.

Revision ID: 0002_delivery
Revises: 7ffbfb4a9064
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_delivery"
down_revision = "7ffbfb4a9064"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "rate_bucket",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("tokens", sa.Double(), nullable=False),
        sa.Column("updated", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    with op.batch_alter_table("outbox_item") as batch:
        batch.add_column(sa.Column("uncertain", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
        batch.add_column(sa.Column("retried_at", sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table("outbox_item") as batch:
        batch.drop_column("retried_at")
        batch.drop_column("uncertain")
    op.drop_table("rate_bucket")
