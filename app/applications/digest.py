"""The daily digest: one e-mail a day to each organisation that chose it, listing the
applications received since its last one, at `VOCATION_DIGEST_HOUR` in the service's zone.

Applications owe a digest by a flag set when they are received (app/applications/notify.py),
and the digest clears the flags it lists in the transaction that queues it: nothing is
listed twice, nothing is lost to a restart, and the worker keeps no other state. Each time
it looks, it sends what was received before the latest digest hour that has passed; what
came after waits for the next one. A process that was down at that hour sends it when it
starts again."""

import logging
import uuid
from collections import defaultdict
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.applications.mails import application_url
from app.applications.models import Application, ApplicationStatus
from app.applications.notify import applications_url
from app.core.db import Database
from app.core.types import utcnow
from app.core.workers import Drainer
from app.mail import queue_mail
from app.offers.models import Offer
from app.organisations.models import Organisation

_log = logging.getLogger("vocation.digest")


def latest_digest_time(now: datetime, zone: ZoneInfo, hour: int) -> datetime:
    """The latest moment at or before ``now`` when the clock read ``hour``:00 in ``zone``."""
    local = now.astimezone(zone)
    today = datetime.combine(local.date(), time(hour), zone)
    return (
        today if today <= local else datetime.combine(local.date() - timedelta(1), time(hour), zone)
    )


async def send_digests(database: Database, *, cutoff: datetime, base: str) -> int:
    """Queue the digest of every organisation owed one for what it received before
    ``cutoff``; returns how many were queued."""
    async with database.sessions() as session:
        owing = (
            (
                await session.execute(
                    select(col(Application.organisation_id)).where(_owed(cutoff)).distinct()
                )
            )
            .scalars()
            .all()
        )
    sent = 0
    for organisation_id in owing:
        async with database.sessions() as session:
            sent += await _send_one(session, organisation_id, cutoff, base)
    return sent


def _owed(cutoff: datetime) -> ColumnElement[bool]:
    return and_(
        col(Application.awaiting_digest).is_(True),
        col(Application.created_at) < cutoff,
        col(Application.status) != ApplicationStatus.pending.value,
    )


async def _send_one(
    session: AsyncSession, organisation_id: uuid.UUID, cutoff: datetime, base: str
) -> int:
    # PostgreSQL: one process at a time makes an organisation's digest; another's worker at
    # the same hour skips it rather than lock some of its applications and send a second,
    # partial digest. (SQLite: one writer at a time; the second finds nothing left.)
    mine = await session.execute(
        select(col(Organisation.id))
        .where(col(Organisation.id) == organisation_id)
        .with_for_update(skip_locked=True)
    )
    if mine.first() is None:
        await session.commit()
        return 0
    applications = (
        (
            await session.execute(
                select(Application)
                .where(col(Application.organisation_id) == organisation_id, _owed(cutoff))
                .order_by(col(Application.created_at), col(Application.id))
                # A confirmation under way keeps its application for the next digest.
                .with_for_update(skip_locked=True)
            )
        )
        .scalars()
        .all()
    )
    if not applications:
        await session.commit()
        return 0
    # Only what this update takes off is listed: on SQLite another process may have read
    # the same rows, and the flag decides which of the two lists them.
    taken = set(
        (
            await session.execute(
                update(Application)
                .where(
                    col(Application.id).in_([application.id for application in applications]),
                    col(Application.awaiting_digest).is_(True),
                )
                .values(awaiting_digest=False)
                .returning(col(Application.id))
            )
        ).scalars()
    )
    applications = [application for application in applications if application.id in taken]
    organisation = await session.get(Organisation, organisation_id)
    # Erased since it was received: nothing to show, and it was never the recruiter's.
    listed = [application for application in applications if application.erased_at is None]
    queued = 0
    if organisation is not None and organisation.notification_email and listed:
        await queue_mail(
            session,
            to=organisation.notification_email,
            template="recruiter_digest",
            context={
                "organisation_name": organisation.name,
                "count": len(listed),
                "offers": await _by_offer(session, listed, base),
            },
        )
        queued = 1
    await session.commit()
    return queued


async def _by_offer(
    session: AsyncSession, applications: list[Application], base: str
) -> list[dict[str, object]]:
    grouped: dict[uuid.UUID, list[Application]] = defaultdict(list)
    for application in applications:
        grouped[application.offer_id].append(application)
    offers = {
        offer.id: offer
        for offer in (
            await session.execute(select(Offer).where(col(Offer.id).in_(list(grouped))))
        ).scalars()
    }
    return [
        {
            "title": offers[offer_id].title,
            "reference": offers[offer_id].reference,
            "applications_url": applications_url(base, offers[offer_id]),
            "application_urls": [application_url(base, a) for a in grouped[offer_id]],
        }
        for offer_id in sorted(grouped, key=lambda offer_id: offers[offer_id].title)
    ]


class DigestWorker(Drainer):
    """Looks every ``poll_seconds``; sends at most once per digest hour in this process,
    and the flags keep several processes from sending twice."""

    def __init__(
        self, database: Database, *, zone: ZoneInfo, hour: int, base: str, poll_seconds: float
    ) -> None:
        self._database, self._zone, self._hour, self._base = database, zone, hour, base
        self._done_for: datetime | None = None
        super().__init__("sending daily digests", self.send_due, poll_seconds, _log)

    async def send_due(self) -> int:
        cutoff = latest_digest_time(utcnow(), self._zone, self._hour)
        if cutoff == self._done_for:
            return 0
        sent = await send_digests(self._database, cutoff=cutoff, base=self._base)
        self._done_for = cutoff
        return sent
