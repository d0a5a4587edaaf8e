"""A bulk upload: rows read as a stream, checked, and written in batches in one
transaction, with a report that names every failed row."""

import asyncio
import contextlib
import uuid
from collections import deque
from collections.abc import AsyncGenerator, Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from app.core.db import dialect_of
from app.core.errors import PayloadTooLarge, Unprocessable
from app.offers import writer
from app.offers.bulk import formats, upsert
from app.offers.bulk.checks import Checked, CheckPool
from app.offers.bulk.upsert import REFERENCE, Outcome, RowError

# Rows checked and written together: one query finds their existing offers, one INSERT
# creates the new ones. Memory holds a few batches (one read, one checked, one written),
# whatever the upload's size.
BATCH_SIZE = 500


_NO_SYNC = "no reference could be read from this row, so sync=true closed no offer"
_BACK_TO_DRAFT = "this offer is published and cannot go back to draft; close it instead"
_EMPTY_SYNC = (
    "This upload holds no offer: with sync=true it would close all your published offers. "
    "Nothing was written. Check the export that made it; to close offers, send them with "
    '"status": "closed".'
)


class BulkMode(StrEnum):
    atomic = "atomic"
    partial = "partial"


class BulkError(BaseModel):
    row: int = Field(description="Position of the offer in the upload, from 1.")
    reference: str | None
    field: str | None = Field(description="The field at fault; null for the row as a whole.")
    message: str


class BulkReport(BaseModel):
    dry_run: bool
    mode: BulkMode
    written: bool = Field(
        description="Whether the upload was applied: false for a dry run, and for "
        "mode=atomic with errors (nothing written). In mode=partial it is true even when "
        "every row failed; the counts then say that nothing changed. A dry run's counts "
        "and status are the real run's: in mode=atomic with errors, 0 and 422."
    )
    created: int
    updated: int
    unchanged: int
    closed: int = Field(description="Published offers absent from the upload, with `sync=true`.")
    failed: int = Field(description="Rows not written, each listed in `errors`.")
    errors: list[BulkError]


@dataclass(frozen=True, slots=True)
class Owner:
    """The uploading key's organisation, as plain values: the session's objects expire at
    each commit, and an upload commits its idempotency claim before it starts."""

    id: uuid.UUID
    slug: str


@dataclass(slots=True)
class _Run:
    organisation: Owner
    mode: BulkMode
    dry_run: bool
    counts: dict[Outcome, int] = field(default_factory=lambda: dict.fromkeys(Outcome, 0))
    errors: list[RowError] = field(default_factory=list)
    failed_rows: set[int] = field(default_factory=set)
    rows: int = 0
    references: set[str] = field(default_factory=set)
    without_reference: list[int] = field(default_factory=list)  # failed rows, by number

    def fail(self, error: RowError) -> None:
        self.errors.append(error)
        self.failed_rows.add(error.row)

    @property
    def applies(self) -> bool:
        """Whether the upload is (or, in a dry run, would be) applied."""
        return not (self.mode == BulkMode.atomic and self.errors)

    @property
    def writing(self) -> bool:
        return not self.dry_run and self.applies

    def names_organisation(self, reference: str) -> bool:
        return reference in {self.organisation.slug, str(self.organisation.id)}


def _accept(run: _Run, number: int, checked: Checked) -> tuple[Any, ...] | None:
    """The row's values when it may be written; otherwise its failure is recorded."""
    reference = checked.reference
    if checked.values is None:
        for field_name, message in checked.errors:
            run.fail(RowError(number, reference, field_name, message))
        if reference:
            # Present, if invalid: `sync` must not close the offer it names.
            run.references.add(reference)
        else:
            run.without_reference.append(number)
        return None
    assert reference is not None  # a valid row has one
    if checked.organisation is not None and not run.names_organisation(checked.organisation):
        run.fail(RowError(number, reference, "organisation", "not this key's organisation"))
        run.references.add(reference)  # a failed row: sync must not close the offer it names
        return None
    if reference in run.references:
        run.fail(RowError(number, reference, "reference", "appears twice in this upload"))
        return None
    run.references.add(reference)
    return checked.values


def _read_batches(rows: Iterator[formats.Row], max_rows: int) -> Iterator[list[formats.Row]]:
    batch: list[formats.Row] = []
    for number, raw in enumerate(rows, start=1):
        if number > max_rows:
            raise PayloadTooLarge(
                f"An upload holds at most {max_rows:,} offers (setting "
                "VOCATION_BULK_MAX_ROWS); split it, or send it in chunks. Nothing was written."
            )
        batch.append(raw)
        if len(batch) == BATCH_SIZE:
            yield batch
            batch = []
    if batch:
        yield batch


async def _checked_batches(
    rows: Iterator[formats.Row], checks: CheckPool, media_type: str, max_rows: int
) -> AsyncGenerator[tuple[int, list[Checked]], None]:
    """Each batch's checks with the number of its first row, in order. One batch is read
    and sent to be checked while the caller handles the one before."""
    under_way: deque[tuple[int, asyncio.Future[list[Checked]]]] = deque()
    first = 1
    try:
        for batch in _read_batches(rows, max_rows):
            under_way.append((first, checks.check(batch, media_type)))
            first += len(batch)
            if len(under_way) > 1:
                number, checking = under_way.popleft()
                yield number, await checking
        while under_way:
            number, checking = under_way.popleft()
            yield number, await checking
    finally:
        for _number, checking in under_way:
            if checking.done() and not checking.cancelled():
                checking.exception()  # seen: the upload's own failure is what is reported
            checking.cancel()


class _BatchWriter:
    """Writes one batch at a time in the upload's transaction, in the background of the
    reading and planning of the next."""

    def __init__(self, session: AsyncSession, run: _Run) -> None:
        self.session = session
        # Indexing an upload costs more than writing it: the search worker does it after
        # the commit.
        self.offers = writer.OfferWriter(session, indexing=writer.Indexing.queued)
        self._run = run
        self._task: asyncio.Task[None] | None = None

    async def start(self, plans: list[upsert.Plan]) -> None:
        await self.wait()
        self._task = asyncio.create_task(
            upsert.write(self.offers, self._run.organisation.id, plans)
        )

    async def wait(self) -> None:
        """Wait for the batch under way; its failure (LostRace, IntegrityError) is raised."""
        if self._task is not None:
            task, self._task = self._task, None
            await task

    async def cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(BaseException):
                await self._task
            self._task = None


async def _flush(
    lookup: AsyncSession | AsyncConnection,
    background: _BatchWriter,
    run: _Run,
    batch: list[tuple[int, tuple[Any, ...], datetime | None]],
) -> None:
    if not batch:
        return
    if lookup is background.session:
        await background.wait()  # one connection: the batch under way comes first
    references = [values[REFERENCE] for _, values, _ in batch]
    existing = await upsert.existing_by_reference(lookup, run.organisation.id, references)
    plans = []
    for (number, values, published_at), reference in zip(batch, references, strict=True):
        try:
            plans.append(
                upsert.plan(
                    number,
                    values,
                    existing.get(reference),
                    published_at,
                    lifetime=background.offers.lifetime,
                )
            )
        except writer.ClosedOffer:
            run.fail(RowError(number, reference, "status", "this offer is closed and stays so"))
        except writer.StatusRefused:
            run.fail(RowError(number, reference, "status", _BACK_TO_DRAFT))
        except writer.Incomplete as missing:
            run.fail(RowError(number, reference, missing.field, str(missing)))
    for step in plans:
        run.counts[step.outcome] += 1
    if run.writing:
        await background.start(plans)


async def run_upload(
    session: AsyncSession,
    organisation: Owner,
    rows: Iterator[formats.Row],
    *,
    mode: BulkMode,
    dry_run: bool,
    sync: bool,
    max_rows: int,
    checks: CheckPool,
    media_type: str,
    lookup: AsyncConnection | None = None,
) -> BulkReport:
    """Check and write the upload in the session's transaction; the caller commits when
    `report.written`, and rolls back otherwise. The offers written are queued for the
    search index (app.search.queue): the caller wakes its worker after the commit.

    ``lookup``, another connection in a transaction of its own, finds the offers the rows
    name while the session writes the batch before; without it, the session does both.
    It sees what was committed, which is what the plans compare with: the upload's own
    writes are never looked up again (a reference appears once per upload), and a row
    changed meanwhile by another writer fails the versioned update (LostRace).

    ``checks`` checks the rows (in another process: bulk.checks) while this one plans and
    writes the batch before."""
    run = _Run(organisation, mode, dry_run)
    background = _BatchWriter(session, run)
    for connection in (session, lookup):
        if connection is not None and dialect_of(connection) == "postgresql":
            # Each batch looks up 500 references. A prepared statement run more than five
            # times gets a generic plan, which cannot see the array's size and, before the
            # table is analysed, scans all the organisation's offers for every batch.
            await connection.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
    try:
        batches = _checked_batches(rows, checks, media_type, max_rows)
        async with contextlib.aclosing(batches):  # on failure, stops the checks under way
            async for first, checked in batches:
                run.rows += len(checked)
                batch = []
                for number, result in enumerate(checked, start=first):
                    values = _accept(run, number, result)
                    if values is not None:
                        batch.append((number, values, result.published_at))
                await _flush(lookup or session, background, run, batch)
        await background.wait()
    except BaseException:
        await background.cancel()
        raise
    if sync and not run.rows:
        # An empty export, more often than a wish to close everything.
        raise Unprocessable(_EMPTY_SYNC)
    closed = 0
    if sync and run.without_reference:
        # Such a row may name an offer that sync would otherwise close, for good.
        for number in run.without_reference:
            run.fail(RowError(number, None, "reference", _NO_SYNC))
    elif sync and run.applies:
        closed = await upsert.close_absent(
            background.offers if run.writing else None, session, organisation.id, run.references
        )
    written = run.writing
    if written:
        await background.offers.finish()
    # Atomic with errors: nothing is written, so nothing was created or updated; a dry
    # run says the same, since it answers what the real run would.
    applies = run.applies
    counts = run.counts if applies else dict.fromkeys(Outcome, 0)
    return BulkReport(
        dry_run=dry_run,
        mode=mode,
        written=written,
        created=counts[Outcome.created],
        updated=counts[Outcome.updated],
        unchanged=counts[Outcome.unchanged],
        closed=closed if applies else 0,
        failed=len(run.failed_rows),
        errors=[BulkError(**asdict(error)) for error in sorted(run.errors, key=_order)],
    )


def _order(error: RowError) -> tuple[int, str]:
    return error.row, error.field or ""
