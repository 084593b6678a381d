"""used_logins: dashboard login links and Telegram initData already used


Revision ID: 0004
Revises: 0003
Create Date: 2026-12-10
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "used_logins",
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("used_at", storage.models.UTCDateTime(), nullable=False),
        sa.Column("expires_at", storage.models.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    with op.batch_alter_table("used_logins") as batch_op:
        batch_op.create_index(batch_op.f("ix_used_logins_expires_at"), ["expires_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("used_logins") as batch_op:
        batch_op.drop_index(batch_op.f("ix_used_logins_expires_at"))
    op.drop_table("used_logins")
