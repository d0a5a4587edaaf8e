"""`vocation purge`: delete what is past retention, files first, then rows, the
applications nobody confirmed, and the stored documents that a crash left without a row."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.applications import orphans as orphaned
from app.applications.models import Application, ApplicationDocument
from app.applications.pending import erase_unconfirmed
from app.applications.retention import retention_until
from app.candidates.tokens import purge_expired_tokens
from app.core import idempotency
from app.core.storage import Storage
from app.offers.models import Offer

BATCH = 500


@dataclass(frozen=True, slots=True)
class PurgeReport:
    applications: int
    documents: int
    candidate_tokens: int
    idempotency_records: int
    orphaned_documents: int
    unconfirmed_applications: int = 0

    def lines(self) -> list[str]:
        return [
            f"applications deleted: {self.applications}",
            f"unconfirmed applications deleted: {self.unconfirmed_applications}",
            f"documents deleted: {self.documents}",
            f"expired candidate tokens deleted: {self.candidate_tokens}",
            f"idempotency records deleted: {self.idempotency_records}",
            f"orphaned documents deleted: {self.orphaned_documents}",
        ]


async def expired_applications(
    session: AsyncSession, now: datetime, zone: ZoneInfo
) -> list[Application]:
    # Retention depends on calendar months and French days, the same code the API shows
    # to candidates; computing it here rather than in SQL keeps one definition.
    rows = await session.execute(
        select(Application, col(Offer.status), col(Offer.closed_at), col(Offer.deadline)).join(
            Offer, col(Offer.id) == col(Application.offer_id)
        )
    )
    expired = []
    for application, status, closed_at, deadline in rows:
        until = retention_until(
            keep_for_future_offers=application.keep_for_future_offers,
            last_candidate_action_at=application.last_candidate_action_at,
            offer_status=status,
            offer_closed_at=closed_at,
            offer_deadline=deadline,
            zone=zone,
            final_status_at=application.ended_at,
        )
        if until <= now:
            expired.append(application)
    return expired


async def purge(
    session: AsyncSession,
    storage: Storage,
    now: datetime,
    zone: ZoneInfo,
    idempotency_hours: int,
    *,
    orphan_grace: timedelta,
) -> PurgeReport:
    unconfirmed = await erase_unconfirmed(session, storage, now)
    applications = await expired_applications(session, now, zone)
    documents = 0
    for start in range(0, len(applications), BATCH):
        ids = [application.id for application in applications[start : start + BATCH]]
        keys = (
            (
                await session.execute(
                    select(col(ApplicationDocument.storage_key)).where(
                        col(ApplicationDocument.application_id).in_(ids)
                    )
                )
            )
            .scalars()
            .all()
        )
        # Files first: if deleting rows fails, the next run finds them again, and the
        # personal data in the files is already gone.
        for key in keys:
            await storage.delete(key)
        documents += len(keys)
        await session.execute(delete(Application).where(col(Application.id).in_(ids)))
        await session.commit()
    tokens = await purge_expired_tokens(session, now)
    records = await idempotency.purge_older_than(session, now - timedelta(hours=idempotency_hours))
    orphans = await orphaned.sweep(session, storage, now, orphan_grace)
    return PurgeReport(len(applications), documents, tokens, records, orphans, unconfirmed)
