"""candidates: when the account's address was proven

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-08 01:00:00

Accounts created before this revision stay unproven (NULL): nobody ever showed that the
address is theirs. They keep signing in; a password reset or the verification link they
can ask for proves them.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.core.types

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("candidate", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("email_verified_at", app.core.types.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("candidate", schema=None) as batch_op:
        batch_op.drop_column("email_verified_at")
