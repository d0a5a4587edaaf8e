"""CSV export of an offer's applications, and file digests for idempotency fingerprints."""

import csv
import io
import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.applications.models import Application, ApplicationDocument
from app.core.errors import NotFound
from app.core.security import Principal
from app.offers.models import Offer

COLUMNS = [
    "id",
    "created_at",
    "status",
    "first_name",
    "last_name",
    "email",
    "phone",
    "keep_for_future_offers",
    "documents",
    "erased",
]
# Spreadsheets run cells that start with these as formulas (CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


async def offer_csv(
    session: AsyncSession, principal: Principal, offer_id: uuid.UUID
) -> tuple[bytes, uuid.UUID]:
    offer = await session.get(Offer, offer_id)
    if offer is None or not principal.may_write_for(offer.organisation_id):
        raise NotFound("No offer with this id.")
    document_count = (
        select(func.count())
        .where(col(ApplicationDocument.application_id) == col(Application.id))
        .scalar_subquery()
    )
    rows = (
        await session.execute(
            select(Application, document_count)
            .where(col(Application.offer_id) == offer_id)
            .order_by(col(Application.created_at), col(Application.id))
        )
    ).all()
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    for application, documents in rows:
        writer.writerow(
            [
                _cell(value)
                for value in (
                    application.id,
                    application.created_at.isoformat(),
                    application.status,
                    application.first_name,
                    application.last_name,
                    application.email,
                    application.phone,
                    application.keep_for_future_offers,
                    documents,
                    application.erased_at is not None,
                )
            ]
        )
    # A BOM so that spreadsheets open accented names correctly.
    return ("\ufeff" + buffer.getvalue()).encode("utf-8"), offer.organisation_id
