"""Which waiting customer message (its time) the team was last told about: one note each.

Revision ID: 0010_session_stranded_noted_at
Revises: 0009_ids_up_to_255
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_session_stranded_noted_at"
down_revision = "0009_ids_up_to_255"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("session") as batch:
        batch.add_column(sa.Column("stranded_noted_at", sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table("session") as batch:
        batch.drop_column("stranded_noted_at")
