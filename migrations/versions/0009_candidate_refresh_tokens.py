"""candidates: refresh tokens in families, and the family each access token descends from

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 20:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.core.types

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "candidate_refresh_token",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("family_id", sa.Uuid(), nullable=False),
        sa.Column("candidate_id", sa.Uuid(), nullable=False),
        sa.Column("expires_at", app.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", app.core.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", app.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["candidate_id"],
            ["candidate.id"],
            name=op.f("fk_candidate_refresh_token_candidate_id_candidate"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_candidate_refresh_token")),
    )
    with op.batch_alter_table("candidate_refresh_token", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_candidate_refresh_token_candidate_id"), ["candidate_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_candidate_refresh_token_family_id"), ["family_id"], unique=False
        )
    with op.batch_alter_table("candidate_token", schema=None) as batch_op:
        batch_op.add_column(sa.Column("family_id", sa.Uuid(), nullable=True))
        batch_op.create_index(batch_op.f("ix_candidate_token_family_id"), ["family_id"])


def downgrade() -> None:
    with op.batch_alter_table("candidate_token", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_candidate_token_family_id"))
        batch_op.drop_column("family_id")
    with op.batch_alter_table("candidate_refresh_token", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_candidate_refresh_token_family_id"))
        batch_op.drop_index(batch_op.f("ix_candidate_refresh_token_candidate_id"))
    op.drop_table("candidate_refresh_token")
