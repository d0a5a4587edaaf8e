"""candidates: lockout columns; e-mail addresses of accounts and applications in their
canonical form (NFKC, case-folded)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 22:00:00

Addresses that become equal once canonical (« ca@example.org » and « ｃａ@example.org »)
cannot all take the canonical form: accounts' addresses are unique, and so are an offer's
applications per address. Of each such group, the row that already holds the canonical
form keeps it, or else the oldest takes it; the others are left exactly as they were and
counted in the log (no address is logged). Nothing is merged nor deleted: merging would
hand one person's applications to whoever made the look-alike. A left-over account can no
longer sign in (sign-in compares canonical forms) until an operator settles it; a left-over
application stays readable by its recruiter and its follow-up token.
"""

import hashlib
import logging
import unicodedata
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

import app.core.types

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("alembic.runtime.migration")


def _canonical(email: str) -> str:
    # Frozen here: the migration must give the same answer whatever app/ becomes.
    return unicodedata.normalize("NFKC", email.strip()).casefold()


def _digest(email: str) -> str:
    return hashlib.sha256(email.encode()).hexdigest()


def upgrade() -> None:
    with op.batch_alter_table("candidate", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("failed_sign_ins", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("locked_until", app.core.types.UTCDateTime(timezone=True), nullable=True)
        )
    left = _canonical_accounts()
    if left:
        log.warning("0010: %d candidate account(s) share their address with another", left)
    left = _canonical_applications()
    if left:
        log.warning("0010: %d application(s) share their offer and address with another", left)


def _keeper(rows: list[Any], has_canonical: Any) -> Any:
    holders = [row for row in rows if has_canonical(row)]
    return holders[0] if holders else min(rows, key=lambda row: (row.created_at, str(row.id)))


def _canonical_accounts() -> int:
    bind = op.get_bind()
    candidate = sa.table(
        "candidate",
        sa.column("id", sa.Uuid()),
        sa.column("email", sa.String()),
        sa.column("created_at", app.core.types.UTCDateTime(timezone=True)),
    )
    groups: dict[str, list[Any]] = defaultdict(list)
    for row in bind.execute(sa.select(candidate.c.id, candidate.c.email, candidate.c.created_at)):
        groups[_canonical(row.email)].append(row)
    left = 0
    for canonical, rows in groups.items():
        keeper = _keeper(rows, lambda row, c=canonical: row.email == c)
        left += len(rows) - 1
        if keeper.email != canonical:
            bind.execute(
                candidate.update().where(candidate.c.id == keeper.id).values(email=canonical)
            )
    return left


def _canonical_applications() -> int:
    bind = op.get_bind()
    application = sa.table(
        "application",
        sa.column("id", sa.Uuid()),
        sa.column("offer_id", sa.Uuid()),
        sa.column("email", sa.String()),
        sa.column("email_hash", sa.String()),
        sa.column("created_at", app.core.types.UTCDateTime(timezone=True)),
    )
    query = sa.select(
        application.c.id,
        application.c.offer_id,
        application.c.email,
        application.c.email_hash,
        application.c.created_at,
    ).where(application.c.email.is_not(None))
    groups: dict[tuple[Any, str], list[Any]] = defaultdict(list)
    for row in bind.execute(query):
        groups[(row.offer_id, _canonical(row.email))].append(row)
    left = 0
    for (_offer_id, canonical), rows in groups.items():
        digest = _digest(canonical)
        keeper = _keeper(rows, lambda row, d=digest: row.email_hash == d)
        left += len(rows) - 1
        if keeper.email != canonical or keeper.email_hash != digest:
            bind.execute(
                application.update()
                .where(application.c.id == keeper.id)
                .values(email=canonical, email_hash=digest)
            )
    return left


def downgrade() -> None:
    # Canonical addresses stay: the older code lower-cases them, and they are valid.
    with op.batch_alter_table("candidate", schema=None) as batch_op:
        batch_op.drop_column("locked_until")
        batch_op.drop_column("failed_sign_ins")
