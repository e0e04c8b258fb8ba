"""Freshchat ids up to 255 characters on every database: older accounts send conversation
ids like `{app_id}_{user_id}_feedback` (82 characters), which PostgreSQL refused in the
64-character columns (the webhook answered 503 and Freshchat retried for ever). SQLite
never enforced the length; its tables are rebuilt all the same, so both schemas match.

Revision ID: 0009_ids_up_to_255
Revises: 0008_user_session_version
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_ids_up_to_255"
down_revision = "0008_user_session_version"
branch_labels = None
depends_on = None

COLUMNS = {  # table: {column: old length}
    "integration": {"default_agent_id": 64},
    "event": {"conversation_id": 64},
    "contact_user": {"freshchat_user_id": 64},
    "session": {"conversation_id": 64, "app_id": 64, "channel_id": 64,
                "freshchat_conversation_id": 32, "freshchat_channel_id": 32,
                "assigned_agent_id": 64, "freshchat_user_id": 64},
    "message": {"freshchat_message_id": 64, "actor_id": 64},
    "timeline_entry": {"conversation_id": 64},
    "outbox_item": {"conversation_id": 64, "response_id": 64},
}


def _alter(widen: bool) -> None:
    for table, columns in COLUMNS.items():
        with op.batch_alter_table(table) as batch:
            for column, old in columns.items():
                before, after = (old, 255) if widen else (255, old)
                batch.alter_column(column, existing_type=sa.String(before),
                                   type_=sa.String(after))


def upgrade():
    _alter(widen=True)


def downgrade():
    _alter(widen=False)
