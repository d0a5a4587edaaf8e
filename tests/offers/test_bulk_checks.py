"""The processes that check bulk uploads' rows (app.offers.bulk.checks)."""

import asyncio
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from enum import Enum
from typing import Any

import pytest

from app.offers.bulk import formats
from app.offers.bulk.checks import Checked, CheckPool
from tests.offers.test_bulk import row

ROWS: list[Any] = [
    json.dumps(row(1)).encode(),
    json.dumps(row(2, departement="99", title="Deux\nlignes")).encode(),
    b"[1, 2]",
    b'{"reference": "R-\xff"}',
    row(5, open_to_contractuels="true", duration_months="12"),  # as a CSV line gives it
    formats.Unreadable("7 cells for 6 columns"),
]


def _pool_pid(pool: CheckPool) -> int:
    return asyncio.get_running_loop().run_in_executor(pool._pool(), os.getpid)  # type: ignore[return-value]


async def test_a_pool_process_checks_rows_as_the_server_itself_would() -> None:
    pool = CheckPool(1)
    try:
        in_pool = await pool.check(ROWS, formats.NDJSON)
        here = await CheckPool(0).check(ROWS, formats.NDJSON)
        assert await _pool_pid(pool) != os.getpid()
    finally:
        await pool.stop()

    assert in_pool == here
    references = [checked.reference for checked in here]
    assert references == ["LABO-0001", "LABO-0002", None, None, "LABO-0005", None]
    assert here[0].values is not None
    assert here[0].errors == []
    assert here[1] == Checked(
        None,
        "LABO-0002",
        None,
        [
            ("title", "must be a single line"),
            (
                "departement",
                "unknown département: use an INSEE code such as 44, 75, 2A or 971 "
                "(see /v1/referentials/departements)",
            ),
        ],
    )
    assert [checked.errors for checked in here[2:4]] == [
        [(None, "each line must be an object")],
        [(None, "not UTF-8")],
    ]
    assert here[4].values is not None  # the texts of a CSV line, read as their types
    assert here[5].errors == [(None, "7 cells for 6 columns")]
    # Values cross between processes as plain types: no enum member to rebuild.
    assert not any(isinstance(value, Enum) for value in here[0].values)
    assert "cdd" in here[0].values


async def test_a_dead_check_process_is_replaced_and_its_rows_still_checked() -> None:
    pool = CheckPool(1)
    try:
        await pool.warm()
        first = await _pool_pid(pool)
        os.kill(first, signal.SIGKILL)
        await asyncio.sleep(0.5)

        checked = await pool.check(ROWS[:2], formats.NDJSON)

        assert [item.reference for item in checked] == ["LABO-0001", "LABO-0002"]
        second = await _pool_pid(pool)
        assert second not in (first, os.getpid())
    finally:
        await pool.stop()


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")
async def test_a_stopped_pool_ends_its_processes_and_starts_again_when_used() -> None:
    pool = CheckPool(1)
    await pool.warm()
    first = await _pool_pid(pool)

    await pool.stop()

    assert not _alive(first)
    assert [item.reference for item in await pool.check(ROWS[:1], formats.NDJSON)] == ["LABO-0001"]
    assert await _pool_pid(pool) != first
    await pool.stop()


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")
def test_the_check_process_leaves_when_the_server_is_killed() -> None:
    server = subprocess.Popen(  # noqa: S603 (our own interpreter and code)
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                """
                import asyncio, os, time
                from app.offers.bulk.checks import CheckPool

                async def main():
                    pool = CheckPool(1)
                    await pool.warm()
                    pid = await asyncio.get_running_loop().run_in_executor(pool._pool(), os.getpid)
                    print(pid, flush=True)
                    time.sleep(60)

                asyncio.run(main())
                """
            ),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert server.stdout is not None
    checker = int(server.stdout.readline())
    assert os.path.exists(f"/proc/{checker}")

    server.kill()
    server.wait()
    deadline = time.monotonic() + 10
    while _alive(checker) and time.monotonic() < deadline:
        time.sleep(0.1)

    assert not _alive(checker)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False
