"""Writing offers by their reference: `PUT` one, or upload many."""

import json
import uuid
from dataclasses import dataclass
from datetime import date
from typing import IO

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import idempotency
from app.core.db import Database
from app.core.errors import (
    Conflict,
    FieldError,
    NotFound,
    PreconditionFailed,
    Unprocessable,
)
from app.core.http import require_match
from app.core.security import Principal
from app.offers import lifetime, reads, writer
from app.offers.bulk import formats, upsert
from app.offers.bulk.checks import CheckPool
from app.offers.bulk.upload import BulkMode, BulkReport, Owner, run_upload
from app.offers.bulk.upsert import OfferUpsert, Outcome
from app.offers.models import OfferPublic
from app.offers.service import incomplete
from app.organisations import service as organisations
from app.organisations.models import Organisation


@dataclass(frozen=True, slots=True)
class Put:
    offer: OfferPublic
    created: bool


async def put_offer(
    session: AsyncSession,
    principal: Principal,
    id_or_slug: str,
    reference: str,
    body: OfferUpsert,
    *,
    if_match: str | None,
    today: date,
) -> Put:
    """Create, replace, or leave alone (when the same) the offer with this reference."""
    organisation = await organisations.load_for_write(session, principal, id_or_slug)
    if body.reference not in (None, reference):
        raise Unprocessable(
            "The body's reference differs from the path's.",
            errors=[FieldError(field="reference", message="must equal the path's reference")],
        )
    if body.organisation is not None and body.organisation not in {
        organisation.slug,
        str(organisation.id),
    }:
        raise Unprocessable(
            "The body names another organisation than the path.",
            errors=[FieldError(field="organisation", message="not the path's organisation")],
        )
    organisation_id: uuid.UUID = organisation.id
    row = body.model_copy(update={"reference": reference})
    existing = (await upsert.existing_by_reference(session, organisation_id, [reference])).get(
        reference
    )
    if existing is not None and if_match is not None:
        require_match(if_match, await reads.read_after_write(session, existing["id"], today))
    try:
        step = upsert.plan(
            1,
            upsert.stored_values(row),
            existing,
            row.published_at,
            lifetime=lifetime.of_session(session),
        )
    except writer.ClosedOffer:
        raise Conflict("This offer is closed; closed offers are kept as they were.") from None
    except writer.StatusRefused as error:
        raise Conflict(str(error)) from None
    except writer.Incomplete as missing:
        raise incomplete(missing) from None
    if step.outcome != Outcome.unchanged:
        offers_writer = writer.OfferWriter(session)
        try:
            await upsert.write(offers_writer, organisation_id, [step])
            await offers_writer.commit()
        except IntegrityError:
            await session.rollback()
            raise Conflict("Another request created this reference at the same time.") from None
        except writer.LostRace:
            await session.rollback()
            if if_match is not None:
                raise PreconditionFailed("The offer changed meanwhile: send it again.") from None
            # No precondition was asked for: another writer came in between, so retry.
            raise Conflict(
                "The offer changed meanwhile: send it again.", headers={"Retry-After": "1"}
            ) from None
    public = await reads.read_after_write(session, step.offer_id, today)
    return Put(public, created=step.outcome == Outcome.created)


@dataclass(frozen=True, slots=True)
class Upload:
    """An upload as the request brought it."""

    body: IO[bytes]
    body_hash: str
    media_type: str
    mode: BulkMode
    dry_run: bool
    sync: bool
    idempotency_key: str | None

    def fingerprint(self) -> str:
        """What makes two uploads "the same request" for Idempotency-Key."""
        return upload_fingerprint(
            self.body_hash, self.media_type, self.mode, self.dry_run, self.sync
        )


def upload_fingerprint(
    body_hash: str, media_type: str, mode: BulkMode, dry_run: bool, sync: bool
) -> str:
    return idempotency.fingerprint([body_hash, media_type, mode.value, dry_run, sync])


async def upload(
    session: AsyncSession,
    database: Database,
    principal: Principal,
    sent: Upload,
    *,
    max_rows: int,
    checks: CheckPool,
) -> idempotency.Answer:
    """Run an upload once per Idempotency-Key: its report (200), or the problem that
    refused it (422 in mode=atomic, with the report); a retry gets the first answer."""
    assert principal.organisation_id is not None
    organisation = await session.get(Organisation, principal.organisation_id)
    if organisation is None:
        raise NotFound("This key's organisation no longer exists.")
    owner = Owner(organisation.id, organisation.slug)
    key = None
    if sent.idempotency_key is not None:
        key = idempotency.Key(f"bulk:{owner.id}", sent.idempotency_key, sent.fingerprint())

    async def run(commit: idempotency.Commit) -> idempotency.Answer:
        try:
            # A second connection looks up each batch's offers while the session writes
            # the batch before (upload.run_upload).
            async with database.engine.connect() as lookup, lookup.begin():
                report = await run_upload(
                    session,
                    owner,
                    formats.rows(sent.body, sent.media_type),
                    mode=sent.mode,
                    dry_run=sent.dry_run,
                    sync=sent.sync,
                    max_rows=max_rows,
                    checks=checks,
                    media_type=sent.media_type,
                    lookup=lookup,
                )
        except formats.UploadUnreadable as error:
            raise Unprocessable(str(error)) from None
        except (writer.LostRace, IntegrityError):
            # Another writer changed or created some of these offers meanwhile.
            raise Conflict(
                "Some of these offers changed during the upload; send it again.",
                headers={"Retry-After": "1"},
            ) from None
        # A dry run answers as the real run would: 422 when mode=atomic refuses the upload.
        status = 422 if sent.mode == BulkMode.atomic and report.failed else 200
        body = _atomic_failure(report) if status == 422 else report.model_dump_json()
        if not report.written:
            await session.rollback()
        await commit(status, body)
        return idempotency.Answer(status, body)

    # A replay is an Answer too: the first one, with its status and media type.
    return await idempotency.run_once(session, key, run)


def _atomic_failure(report: BulkReport) -> str:
    """A problem (RFC 9457) that carries the whole report: its `errors` keep the problem's
    `field` and `message`, and add each row's number and reference."""
    outcome = (
        "nothing would be written (dry run, mode=atomic)"
        if report.dry_run
        else "nothing was written (mode=atomic)"
    )
    refused = Unprocessable(
        f"{report.failed} row(s) failed, so {outcome}. "
        "Fix them, or send mode=partial to write the valid rows."
    )
    problem = {
        **refused.problem().model_dump(exclude={"errors"}),
        **report.model_dump(exclude={"errors"}),
        "errors": [
            {**error.model_dump(), "field": error.field or "row"} for error in report.errors
        ],
    }
    return json.dumps(problem, ensure_ascii=False)
