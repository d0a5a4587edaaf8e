"""offer search index

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 10:00:00
"""

from collections.abc import Sequence

from alembic import op

from app.search import index, schema

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    connection = op.get_bind()
    schema.create(connection)
    index.rebuild(connection)


def downgrade() -> None:
    schema.drop(op.get_bind())
