"""offers: positions, most years of experience, team management, street address, legal
basis, source URL

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 19:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("offer", schema=None) as batch_op:
        batch_op.add_column(sa.Column("experience_years_max", sa.Integer(), nullable=True))
        # Every offer so far was for one post.
        batch_op.add_column(
            sa.Column("positions", sa.Integer(), nullable=False, server_default="1")
        )
        batch_op.add_column(sa.Column("manages_team", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("address", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("legal_basis", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("source_url", sa.String(length=500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("offer", schema=None) as batch_op:
        for column in (
            "source_url",
            "legal_basis",
            "address",
            "manages_team",
            "positions",
            "experience_years_max",
        ):
            batch_op.drop_column(column)
