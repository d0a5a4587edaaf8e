"""Unconfirmed applications: erased with their files once their link has expired.

Nobody but the link's holder ever saw them, so nothing remains, not even the tombstone
an erased received application leaves for its recruiter. `vocation purge` does it, and so
does a worker in each serving process, so that a typed address's owner is rid of it on
time even where nobody runs the purge."""

import logging
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.applications.models import Application, ApplicationDocument, ApplicationStatus
from app.core.db import Database
from app.core.storage import Storage
from app.core.types import utcnow
from app.core.workers import Drainer

# The confirmation link's lifetime, and the pending application's.
PENDING_LIFETIME = timedelta(hours=48)
CONFIRM_PURPOSE = "application_confirm"

# Applications erased per transaction: bounds the lock and the files deleted before it.
BATCH_SIZE = 200

_log = logging.getLogger("vocation.pending")


async def erase_unconfirmed(session: AsyncSession, storage: Storage, now: datetime) -> int:
    """Erase every pending application made ``PENDING_LIFETIME`` or more before ``now``;
    returns how many."""
    erased = 0
    while True:
        ids = (
            (
                await session.execute(
                    select(col(Application.id))
                    .where(
                        col(Application.status) == ApplicationStatus.pending.value,
                        col(Application.created_at) <= now - PENDING_LIFETIME,
                    )
                    .order_by(col(Application.id))
                    .limit(BATCH_SIZE)
                    # PostgreSQL: a confirmation under way holds its row; it is left to it,
                    # and several processes' sweeps share the rows.
                    .with_for_update(skip_locked=True)
                )
            )
            .scalars()
            .all()
        )
        if not ids:
            await session.commit()
            return erased
        keys = (
            await session.execute(
                select(col(ApplicationDocument.storage_key)).where(
                    col(ApplicationDocument.application_id).in_(ids)
                )
            )
        ).scalars()
        # Files first: if deleting the rows fails, the next sweep finds them again, and the
        # personal data in the files is already gone.
        for key in keys:
            await storage.delete(key)
        await session.execute(
            delete(ApplicationDocument).where(col(ApplicationDocument.application_id).in_(ids))
        )
        await session.execute(delete(Application).where(col(Application.id).in_(ids)))
        await session.commit()
        erased += len(ids)
        if len(ids) < BATCH_SIZE:
            return erased


class PendingSweeper(Drainer):
    def __init__(self, database: Database, storage: Storage, poll_seconds: float) -> None:
        self._database, self._storage = database, storage
        super().__init__("erasing unconfirmed applications", self.sweep, poll_seconds, _log)

    async def sweep(self) -> int:
        async with self._database.sessions() as session:
            return await erase_unconfirmed(session, self._storage, utcnow())
