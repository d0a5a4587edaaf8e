"""offers: end_date, a range of months, a salary statement up to 1,000 characters, drafts
without a contract type

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 18:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("offer", schema=None) as batch_op:
        batch_op.add_column(sa.Column("end_date", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("duration_months_min", sa.Integer(), nullable=True))
        batch_op.alter_column(
            "salary_text",
            existing_type=sa.String(length=200),
            type_=sa.String(length=1000),
            existing_nullable=True,
        )
        batch_op.alter_column("contract_type", existing_type=sa.String(length=20), nullable=True)


def downgrade() -> None:
    # Drafts without a contract type cannot go back without inventing one, nor long salary
    # statements without cutting them: refuse rather than lose or assert anything.
    bind = op.get_bind()
    found = bind.execute(
        sa.text(
            "SELECT count(*) FROM offer WHERE contract_type IS NULL OR length(salary_text) > 200"
        )
    ).scalar_one()
    if found:
        raise RuntimeError(
            f"{found} offer(s) have no contract type or a salary_text over 200 characters: "
            "give them one, or shorten it, before downgrading."
        )
    with op.batch_alter_table("offer", schema=None) as batch_op:
        batch_op.alter_column("contract_type", existing_type=sa.String(length=20), nullable=False)
        batch_op.alter_column(
            "salary_text",
            existing_type=sa.String(length=1000),
            type_=sa.String(length=200),
            existing_nullable=True,
        )
        batch_op.drop_column("duration_months_min")
        batch_op.drop_column("end_date")
