"""applications: pending until confirmed, owed to a daily digest; organisations: where and
how often new applications are announced

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-08 10:00:00

`pending` is a new value of `application.status` (a plain string column): no change of
type. Applications already stored are all confirmed ones (`received` or later), and owe
no digest.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("application", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("awaiting_digest", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.create_index("ix_application_status_created", ["status", "created_at"])
        batch_op.create_index(
            "ix_application_awaiting_digest", ["awaiting_digest", "organisation_id"]
        )
    with op.batch_alter_table("organisation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("notification_email", sa.String(length=320), nullable=True))
        batch_op.add_column(
            sa.Column(
                "notification_frequency",
                sa.String(length=12),
                server_default="immediate",
                nullable=False,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("organisation", schema=None) as batch_op:
        batch_op.drop_column("notification_frequency")
        batch_op.drop_column("notification_email")
    # Pending applications mean nothing to the older code: never confirmed, they go, with
    # their rows (SQLite may run without its foreign keys' cascades). Their files stay in
    # storage until the orphan sweep finds them.
    pending = "SELECT id FROM application WHERE status = 'pending'"
    for table in ("application_document", "application_event"):
        op.execute(sa.text(f"DELETE FROM {table} WHERE application_id IN ({pending})"))  # noqa: S608
    op.execute(sa.text("DELETE FROM application WHERE status = 'pending'"))
    with op.batch_alter_table("application", schema=None) as batch_op:
        batch_op.drop_index("ix_application_awaiting_digest")
        batch_op.drop_index("ix_application_status_created")
        batch_op.drop_column("awaiting_digest")
