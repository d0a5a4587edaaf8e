"""Checking a bulk upload's rows, in a process of their own.

Parsing and checking 10,000 offers is a third of a second of CPU, on the one thread that
also serves every other request: done here, it leaves the server's event loop to the
database and to other callers, and it runs on another core while the server plans and
writes the batch before (upload.run_upload).

`check` is a plain function of plain values: the same code runs in the pool's process or,
with no pool (VOCATION_BULK_CHECK_PROCESSES=0), in the server's. The pool's processes are
started by `spawn`, never forked from the server (its event loop, connections and threads
must not be copied), and leave when the server does, even if it is killed.
"""

import asyncio
import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime
from enum import Enum
from typing import Any, NamedTuple, get_args

from pydantic import TypeAdapter, ValidationError

from app.core.fields import Reference
from app.offers.bulk import formats
from app.offers.bulk.upsert import STORED_FIELDS, OfferRow, row_errors, stored_values

logger = logging.getLogger(__name__)


class Checked(NamedTuple):
    """One row after its check: its stored values (None when it failed), and what the
    server needs besides: its reference (for duplicates and sync) and organisation."""

    values: tuple[Any, ...] | None
    reference: str | None
    organisation: str | None
    errors: list[tuple[str | None, str]]
    published_at: datetime | None = None


def _enum_positions() -> list[int]:
    annotations = OfferRow.model_fields
    return [
        position
        for position, name in enumerate(STORED_FIELDS)
        if any(
            isinstance(kind, type) and issubclass(kind, Enum)
            for kind in (annotations[name].annotation, *get_args(annotations[name].annotation))
        )
    ]


# Enum members cross to the server as their text: rebuilding a member costs more there.
_ENUM_POSITIONS = _enum_positions()


def _accepted(row: OfferRow) -> Checked:
    values = list(stored_values(row))
    for position in _ENUM_POSITIONS:
        member = values[position]
        if member is not None:
            values[position] = member.value
    return Checked(tuple(values), row.reference, row.organisation, [], row.published_at)


_REFERENCE = TypeAdapter(Reference)


def _reference_of(raw: dict[str, Any]) -> str | None:
    """The row's reference as Reference reads it (" R-1 " names R-1, which sync must not
    close); None when it cannot be one: such a row names no offer."""
    try:
        return _REFERENCE.validate_python(raw.get("reference"))
    except ValidationError:
        return None


def _refused(raw: dict[str, Any] | formats.Unreadable) -> Checked:
    if isinstance(raw, formats.Unreadable):
        return Checked(None, None, None, [(None, raw.message)])
    reference = _reference_of(raw)
    try:
        return _accepted(OfferRow.model_validate(raw))
    except ValidationError as error:
        found = [(found.field, found.message) for found in row_errors(0, reference, error)]
        return Checked(None, reference, None, found)


def check(rows: Sequence[formats.Row], media_type: str) -> list[Checked]:
    """Each row checked as an offer of a bulk upload."""
    checked = []
    for raw in rows:
        if isinstance(raw, bytes):
            try:
                checked.append(_accepted(OfferRow.model_validate_json(raw)))
            except ValidationError:
                # Rare: read as Python values, for the reference and the same messages.
                checked.append(_refused(formats.json_value(raw, media_type)))
        else:
            checked.append(_refused(raw))
    return checked


# Checked in the server's own process, the rows of a batch give the event loop a turn every
# so many: the batch before is being written meanwhile, and its I/O goes on.
_ROWS_BETWEEN_TURNS = 20


async def _here(rows: Sequence[formats.Row], media_type: str) -> list[Checked]:
    checked: list[Checked] = []
    for start in range(0, len(rows), _ROWS_BETWEEN_TURNS):
        checked.extend(check(rows[start : start + _ROWS_BETWEEN_TURNS], media_type))
        await asyncio.sleep(0)
    return checked


# The pool ------------------------------------------------------------------------------

_PARENT_CHECK_SECONDS = 1.0


def _leave_with_parent(parent: int) -> None:
    """In each pool process: exit once the server that started it is gone (a killed
    server cannot tell its pool to stop)."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(_PARENT_CHECK_SECONDS)
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _ready() -> bool:
    return True


class CheckPool:
    """The processes that check uploads, started on first use (or by `warm`)."""

    def __init__(self, processes: int) -> None:
        self.processes = processes
        self._executor: ProcessPoolExecutor | None = None

    def _pool(self) -> ProcessPoolExecutor:
        if self._executor is None:
            self._executor = ProcessPoolExecutor(
                max_workers=self.processes,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_leave_with_parent,
                initargs=(os.getpid(),),
            )
        return self._executor

    async def warm(self) -> None:
        """Start the processes now, so that the first upload does not wait for them."""
        if self.processes:
            await asyncio.get_running_loop().run_in_executor(self._pool(), _ready)

    def check(self, rows: list[formats.Row], media_type: str) -> "asyncio.Future[list[Checked]]":
        """The rows' checks, under way: in a pool process, or done here with no pool."""
        if not self.processes:
            return asyncio.ensure_future(_here(rows, media_type))
        return asyncio.ensure_future(self._in_pool(rows, media_type))

    async def stop(self) -> None:
        """Stop the processes (they start again if used): at the server's shutdown, so
        that their queues are released before the interpreter exits."""
        executor, self._executor = self._executor, None
        if executor is not None:
            await asyncio.to_thread(executor.shutdown, wait=True, cancel_futures=True)

    async def _in_pool(self, rows: list[formats.Row], media_type: str) -> list[Checked]:
        executor = self._pool()
        try:
            return await asyncio.get_running_loop().run_in_executor(
                executor, check, rows, media_type
            )
        except BrokenProcessPool:
            # A pool process died (killed, out of memory): these rows are checked here,
            # and the next ones by a new pool.
            logger.warning("A bulk check process died; a new one takes over.")
            if self._executor is executor:
                self._executor = None
                executor.shutdown(wait=False, cancel_futures=True)
            return check(rows, media_type)


_shared: dict[int, CheckPool] = {}


def shared_pool(processes: int) -> CheckPool:
    """One pool of each size per server process, whatever the number of apps it builds
    (tests build hundreds); the pool's processes leave when the server does."""
    if processes not in _shared:
        _shared[processes] = CheckPool(processes)
    return _shared[processes]
