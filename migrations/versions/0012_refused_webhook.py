"""Webhooks the intake refused (bad signature, not a Freshchat body, too large), for diagnostics.

Revision ID: 0012_refused_webhook
Revises: 0011_session_outcomes
"""

import sqlalchemy as sa
from alembic import op

revision = "0012_refused_webhook"
down_revision = "0011_session_outcomes"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "refused_webhook",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
    )
    op.create_index("ix_refused_webhook_at", "refused_webhook", ["at"])


def downgrade():
    op.drop_index("ix_refused_webhook_at", table_name="refused_webhook")
    op.drop_table("refused_webhook")
