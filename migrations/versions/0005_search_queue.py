"""search queue; no foreign key on the change feed

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 22:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "search_queue",
        sa.Column("offer_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("offer_id", name=op.f("pk_search_queue")),
    )
    # Checking the feed's key locks the offer's row for every entry (see OfferChange).
    with op.batch_alter_table("offer_change", schema=None) as batch_op:
        batch_op.drop_constraint("fk_offer_change_offer_id_offer", type_="foreignkey")


def downgrade() -> None:
    with op.batch_alter_table("offer_change", schema=None) as batch_op:
        batch_op.create_foreign_key(
            batch_op.f("fk_offer_change_offer_id_offer"), "offer", ["offer_id"], ["id"]
        )
    op.drop_table("search_queue")
