"""inbox: channel updates stored before they are acknowledged

Zalo's webhook (and long poll) updates are written here before the bot answers 200, handled in
arrival order by one worker and marked done in the transaction of their dialog turn; the unique
(channel, message_id) keeps a repeated delivery out across restarts.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "inbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("message_id", sa.String(length=128), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column(
            "state",
            sa.Enum("pending", "done", "failed", name="inboxstate", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("received_at", storage.models.UTCDateTime(), nullable=False),
        sa.Column("handled_at", storage.models.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("channel", "message_id", name="uq_inbox_channel_message"),
    )
    with op.batch_alter_table("inbox") as batch_op:
        batch_op.create_index("ix_inbox_channel_state", ["channel", "state", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_inbox_handled_at"), ["handled_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("inbox") as batch_op:
        batch_op.drop_index(batch_op.f("ix_inbox_handled_at"))
        batch_op.drop_index("ix_inbox_channel_state")
    op.drop_table("inbox")
