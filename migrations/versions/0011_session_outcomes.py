"""The moments the overview counts, stamped on each session as they happen: first customer
message, first AI reply, first human reply, first handoff (and what kind), takeover by a
rep, first resolution, reopen after it, and the number of messages.

Sessions from before this revision get what their transcript tells (messages, the first
customer, AI and rep message times, the resolution); their handoffs are not known and are
counted as "other".

Revision ID: 0011_session_outcomes
Revises: 0010_session_stranded_noted_at
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_session_outcomes"
down_revision = "0010_session_stranded_noted_at"
branch_labels = None
depends_on = None

MOMENTS = ("first_customer_message_at", "first_ai_reply_at", "first_human_message_at",
           "handed_off_at", "taken_over_at", "first_resolved_at", "reopened_at")
FIRST_BY_AUTHOR = {"first_customer_message_at": "customer", "first_ai_reply_at": "ai",
                   "first_human_message_at": "agent"}


def upgrade():
    with op.batch_alter_table("session") as batch:
        for name in MOMENTS:
            batch.add_column(sa.Column(name, sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("handoff_kind", sa.String(32), nullable=True))
        batch.add_column(sa.Column("first_reply_seconds", sa.Double(), nullable=True))
        batch.add_column(sa.Column("reopened_after_hours", sa.Double(), nullable=True))
        batch.add_column(sa.Column("message_count", sa.Integer(), nullable=False,
                                   server_default="0"))
    for column, author in FIRST_BY_AUTHOR.items():
        op.execute(f"UPDATE session SET {column} = (SELECT MIN(m.created_at) FROM message m "
                   f"WHERE m.session_id = session.id AND m.author = '{author}')")
    op.execute("UPDATE session SET message_count = (SELECT COUNT(*) FROM message m "
               "WHERE m.session_id = session.id AND m.author IN ('customer', 'ai', 'agent'))")
    op.execute("UPDATE session SET first_resolved_at = resolved_at")
    seconds = ("(julianday(first_ai_reply_at) - julianday(first_customer_message_at)) * 86400"
               if op.get_bind().dialect.name == "sqlite" else
               "EXTRACT(EPOCH FROM first_ai_reply_at - first_customer_message_at)")
    op.execute(f"UPDATE session SET first_reply_seconds = {seconds} "
               "WHERE first_ai_reply_at >= first_customer_message_at")
    op.execute("UPDATE session SET handed_off_at = updated_at, handoff_kind = 'other' "
               "WHERE status = 'handed_off'")


def downgrade():
    with op.batch_alter_table("session") as batch:
        for name in (*MOMENTS, "handoff_kind", "first_reply_seconds", "reopened_after_hours",
                     "message_count"):
            batch.drop_column(name)
