"""candidates: when the account's address was proven; sign-in locks per address

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-08 01:00:00

Accounts created before this revision stay unproven (NULL): nobody ever showed that the
address is theirs. They keep signing in; a password reset or the verification link they
can ask for proves them.

The lockout moves from the account's row to a table keyed by the address's digest, so that
an address without an account locks as one with does. Counts and locks under way are not
carried over: the longest lock is 15 minutes, and a count starts again at worst.
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
    op.create_table(
        "sign_in_lock",
        sa.Column("address_hash", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("locked_until", app.core.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", app.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("address_hash", name=op.f("pk_sign_in_lock")),
    )
    with op.batch_alter_table("candidate", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("email_verified_at", app.core.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.drop_column("locked_until")
        batch_op.drop_column("failed_sign_ins")


def downgrade() -> None:
    with op.batch_alter_table("candidate", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("failed_sign_ins", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("locked_until", app.core.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.drop_column("email_verified_at")
    op.drop_table("sign_in_lock")
