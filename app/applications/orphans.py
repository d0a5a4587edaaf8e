"""Stored documents that no row points to, and their removal.

An application's files are stored before its rows are written (an upload may take
seconds, and no transaction is held meanwhile). A process killed in between leaves
complete files with no row, and ``.part`` files of the saves it cut short; neither
erasure nor retention can find them, since both start from the rows. They are deleted
here once older than a grace period, far longer than any upload, so that the files of an
application still being written are never touched. Two sweeps at once (two purges, two
workers starting) both delete the same objects, which is harmless on both backends.
"""

import logging
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.applications.files import FOLDER
from app.applications.models import ApplicationDocument
from app.core.db import Database
from app.core.storage import Storage

log = logging.getLogger("vocation.applications")

BATCH = 500


async def sweep(session: AsyncSession, storage: Storage, now: datetime, grace: timedelta) -> int:
    """Delete the stored documents older than ``grace`` that no row points to; return
    how many were deleted."""
    cutoff = now - grace
    removed = 0
    candidates: list[str] = []
    async for entry in storage.scan(FOLDER):
        if entry.modified < cutoff:
            candidates.append(entry.key)
        if len(candidates) >= BATCH:
            removed += await _remove_unrecorded(session, storage, candidates)
            candidates = []
    if candidates:
        removed += await _remove_unrecorded(session, storage, candidates)
    return removed


async def _remove_unrecorded(session: AsyncSession, storage: Storage, keys: list[str]) -> int:
    recorded = set(
        (
            await session.execute(
                select(col(ApplicationDocument.storage_key)).where(
                    col(ApplicationDocument.storage_key).in_(keys)
                )
            )
        ).scalars()
    )
    # Ends the read: no transaction stays open while storage is slow.
    await session.commit()
    orphans = [key for key in keys if key not in recorded]
    for key in orphans:
        await storage.delete(key)
    return len(orphans)


async def sweep_at_start_up(
    database: Database, storage: Storage, now: datetime, grace: timedelta
) -> None:
    """The start-up sweep, run beside the first requests: a failure is logged, never
    raised, since serving matters more and the next start or purge tries again."""
    try:
        async with database.sessions() as session:
            removed = await sweep(session, storage, now, grace)
    except Exception:
        log.exception("could not remove the stored documents that no row points to")
        return
    if removed:
        # Keys are random: the count says enough, and nothing personal is logged.
        log.warning("removed %d stored documents that no row pointed to (a crash)", removed)
