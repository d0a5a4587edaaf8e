"""CSV export of an offer's applications, and file digests for idempotency fingerprints."""

import csv
import enum
import io
import uuid
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.applications.models import Application, ApplicationDocument, ApplicationStatus
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


class CsvDialect(enum.StrEnum):
    """How the CSV is written: ``standard`` for programs and English spreadsheets,
    ``excel_fr`` for a spreadsheet set to French, which splits on `;` because the comma is
    its decimal separator."""

    standard = "standard"
    excel_fr = "excel-fr"


@dataclass(frozen=True, slots=True)
class _Format:
    delimiter: str
    true: str
    false: str


_FORMATS = {
    # True/False as the export always wrote them: scripts already read them.
    CsvDialect.standard: _Format(delimiter=",", true="True", false="False"),
    CsvDialect.excel_fr: _Format(delimiter=";", true="oui", false="non"),
}


def _cell(value: object, form: _Format) -> str:
    if isinstance(value, bool):
        return form.true if value else form.false
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


async def offer_csv(
    session: AsyncSession,
    principal: Principal,
    offer_id: uuid.UUID,
    dialect: CsvDialect = CsvDialect.standard,
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
            .where(
                col(Application.offer_id) == offer_id,
                # Not confirmed by its address's owner: nobody's to see.
                col(Application.status) != ApplicationStatus.pending.value,
            )
            .order_by(col(Application.created_at), col(Application.id))
        )
    ).all()
    form = _FORMATS[dialect]
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=form.delimiter)
    writer.writerow(COLUMNS)
    for application, documents in rows:
        writer.writerow(
            [
                _cell(value, form)
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
    # A BOM in every dialect, so that spreadsheets open accented names correctly.
    return ("\ufeff" + buffer.getvalue()).encode("utf-8"), offer.organisation_id
