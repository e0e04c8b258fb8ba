"""A user's session version: signing out (or losing the account) ends every copy of the
session cookie, not only the one in the browser that signed out.

Revision ID: 0008_user_session_version
Revises: 0007_drop_worker_lease
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_user_session_version"
down_revision = "0007_drop_worker_lease"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("user") as batch:
        batch.add_column(sa.Column("session_version", sa.Integer(), nullable=False,
                                   server_default="0"))


def downgrade():
    with op.batch_alter_table("user") as batch:
        batch.drop_column("session_version")
