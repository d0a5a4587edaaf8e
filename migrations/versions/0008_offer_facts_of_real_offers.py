"""offers: amounts to the cent, benefits, start precision, hours a week, contract reason,
grades, field of work, languages, contact, documents to send, expiry; working time, remote
work and the way to apply may be unknown

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 18:30:00
"""

import os
from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(JSONB(), "postgresql")
_LISTS = ("benefits", "grades", "languages", "documents_required")
_UNKNOWABLE = ("working_time", "remote", "apply_via")
_BATCH = 1000


def upgrade() -> None:
    with op.batch_alter_table("offer", schema=None) as batch_op:
        for name in ("salary_min", "salary_max"):
            batch_op.alter_column(
                name,
                existing_type=sa.Integer(),
                type_=sa.Numeric(12, 2),
                existing_nullable=True,
                postgresql_using=f"{name}::numeric(12, 2)",
            )
        for name in _UNKNOWABLE:
            batch_op.alter_column(name, existing_type=sa.String(length=10), nullable=True)
        for name in _LISTS:
            batch_op.add_column(
                sa.Column(name, _JSON, nullable=False, server_default=sa.text("'[]'"))
            )
        batch_op.add_column(sa.Column("contact", _JSON, nullable=True))
        batch_op.add_column(sa.Column("start_precision", sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column("hours_per_week", sa.Numeric(5, 2), nullable=True))
        batch_op.add_column(sa.Column("contract_reason", sa.String(length=15), nullable=True))
        batch_op.add_column(sa.Column("domain", sa.String(length=30), nullable=True))
        batch_op.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index("ix_offer_expiry", ["status", "expires_at"], unique=False)
    _set_expiry()


def _set_expiry() -> None:
    """Offers published so far had no end: each gets the one it would have had, the end of
    its deadline's day or, without a deadline, its publication plus the default lifetime.
    Those already past it are closed by the expiry worker when the service starts."""
    zone = ZoneInfo(os.environ.get("VOCATION_TIMEZONE", "Europe/Paris"))
    days = int(os.environ.get("VOCATION_OFFER_DEFAULT_DAYS", "60"))
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    rows = bind.execute(
        sa.text(
            "SELECT id, deadline, published_at FROM offer "
            "WHERE deadline IS NOT NULL OR published_at IS NOT NULL"
        )
    ).all()
    updates = []
    for offer_id, deadline, published_at in rows:
        if deadline is not None:
            if isinstance(deadline, str):
                deadline = datetime.fromisoformat(deadline).date()
            end = datetime.combine(deadline + timedelta(days=1), time(), zone).astimezone(UTC)
        else:
            if isinstance(published_at, str):
                published_at = datetime.fromisoformat(published_at)
            if published_at.tzinfo is None:
                published_at = published_at.replace(tzinfo=UTC)
            end = published_at.astimezone(UTC) + timedelta(days=days)
        # SQLite holds naive UTC (app.core.types.UTCDateTime).
        updates.append({"id": offer_id, "expires_at": end.replace(tzinfo=None) if sqlite else end})
    statement = sa.text("UPDATE offer SET expires_at = :expires_at WHERE id = :id")
    for start in range(0, len(updates), _BATCH):
        bind.execute(statement, updates[start : start + _BATCH])


def downgrade() -> None:
    # Cents, and unknown working time, remote work or way to apply, cannot go back without
    # rounding or asserting: refuse rather than lose or invent anything.
    bind = op.get_bind()
    found = bind.execute(
        sa.text(
            "SELECT count(*) FROM offer WHERE working_time IS NULL OR remote IS NULL "
            "OR apply_via IS NULL OR salary_min <> round(salary_min) "
            "OR salary_max <> round(salary_max)"
        )
    ).scalar_one()
    if found:
        raise RuntimeError(
            f"{found} offer(s) have an amount with cents, or no working time, remote work "
            "or way to apply: give them whole amounts and those values before downgrading."
        )
    with op.batch_alter_table("offer", schema=None) as batch_op:
        batch_op.drop_index("ix_offer_expiry")
        for name in (
            "expires_at",
            "domain",
            "contract_reason",
            "hours_per_week",
            "start_precision",
            "contact",
            *reversed(_LISTS),
        ):
            batch_op.drop_column(name)
        for name in _UNKNOWABLE:
            batch_op.alter_column(name, existing_type=sa.String(length=10), nullable=False)
        for name in ("salary_min", "salary_max"):
            batch_op.alter_column(
                name,
                existing_type=sa.Numeric(12, 2),
                type_=sa.Integer(),
                existing_nullable=True,
                postgresql_using=f"{name}::integer",
            )
