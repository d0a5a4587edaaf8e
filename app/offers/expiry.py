"""Closing offers whose last day to apply, or whose `expires_at`, has passed, in the
background.

Until the worker closes it, such an offer already reads as closed everywhere
(reads.effective_status): what the worker adds is its "closed" entry in the change
feed, so that partners' mirrors drop it too, without any `GET` writing.
"""

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from app.core.db import Database
from app.core.workers import Drainer
from app.offers import writer
from app.offers.writer import offers
from app.referentials.enums import OfferStatus

_log = logging.getLogger("vocation.expiry")

# Offers closed per transaction: bounds how long the change feed's lock is held.
BATCH_SIZE = 500

_EXPIRED = (
    sa.select(offers.c.id, offers.c.version)
    .where(
        offers.c.status == OfferStatus.published.value,
        sa.or_(
            sa.and_(offers.c.deadline.is_not(None), offers.c.deadline < sa.bindparam("today")),
            sa.and_(
                offers.c.expires_at.is_not(None),
                offers.c.expires_at <= sa.bindparam("now", type_=offers.c.expires_at.type),
            ),
        ),
    )
    .order_by(offers.c.id)  # as every writer locks offers: no deadlock between them
    .limit(BATCH_SIZE)
    # PostgreSQL: the workers of several processes share the offers instead of waiting for
    # each other (SQLite runs one writer at a time, and has no FOR UPDATE).
    .with_for_update(skip_locked=True)
)
_PUBLISHED = {"status": OfferStatus.published.value}


async def close_expired(database: Database, zone: ZoneInfo) -> int:
    """Close every published offer whose deadline day has ended in ``zone``, or whose
    `expires_at` has come; returns how many were closed."""
    now = datetime.now(zone)
    today = now.date()
    closed = 0
    while True:
        async with database.sessions() as session:
            expired = (await session.execute(_EXPIRED, {"today": today, "now": now})).all()
            offers_writer = writer.OfferWriter(session)
            for offer_id, version in expired:
                try:
                    await offers_writer.close(writer.Current(offer_id, version, _PUBLISHED))
                    closed += 1
                except writer.LostRace:
                    # Changed meanwhile (by its recruiter, or another process's worker):
                    # if it is still expired, the next batch finds it again.
                    continue
            await offers_writer.commit()
        if len(expired) < BATCH_SIZE:
            return closed


class ExpiryWorker(Drainer):
    def __init__(self, database: Database, zone: ZoneInfo, poll_seconds: float) -> None:
        super().__init__(
            "closing expired offers", lambda: close_expired(database, zone), poll_seconds, _log
        )
