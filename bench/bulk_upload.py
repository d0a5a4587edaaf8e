"""Bulk upload benchmark: 10,000 offers through ``POST /v1/offers/bulk`` against the
driver's fastest bulk path, on PostgreSQL and on SQLite, and the server's peak memory.

For each engine it migrates a throwaway database (PostgreSQL: a new database; SQLite: a
file), creates an organisation and a recruiter key, starts the app (uvicorn, one worker,
the flags of ``offers_http.py``) and warms it up with 10-row uploads in each format. Then,
for ``--rounds`` rounds, on emptied tables each time (``TRUNCATE``; on SQLite ``DELETE``
then ``VACUUM``), alternating which goes first:

- **api**: the generated offers (``offers_data.py``: French titles and about 1 kB of
  text each) as one JSON array, timed from sending the request to the report; the report
  must say ``created`` for every row and the database must hold them. The same body again
  (every row ``unchanged``) is timed too, then the same body with ``dry_run=true`` on
  emptied tables (read and checked, nothing written), and, once a round, the same rows
  as NDJSON and as CSV;
- **baseline**, in this process: the same rows with the values the API stores (checked
  on the first round: same columns, same values, ids and timestamps aside) written
  straight into ``offer`` with the driver's fastest bulk path: asyncpg's
  ``copy_records_to_table`` (COPY) on PostgreSQL, one ``executemany`` INSERT in one
  transaction with the stdlib ``sqlite3`` on SQLite (with the app's pragmas). Timed from
  the records in memory to the commit;
- **baseline + feed + index**: the same, plus what the API writes besides the offers:
  their change-feed entries and their search entries (PostgreSQL: COPY of the analysed
  texts into a temporary table, then ``to_tsvector`` server-side; SQLite: the app's own
  analysis and stemming in Python, then ``executemany`` into FTS5), in one transaction.

It reports rows per second (medians over the rounds) and the ratio api / baseline against
a target of 0.5, and the server's peak memory growth during each upload (``VmHWM`` reset
with ``clear_refs`` just before it), its row-checking processes (app.offers.bulk.checks)
included: their peaks are added, an upper bound of the peak of them all. It also reports
the CPU seconds each upload took from the server, its check processes and PostgreSQL
(all its processes): on a two-core machine these share the cores, so their sum divided by
the number of cores is a floor under the answer's time, however well the work overlaps;
it is printed beside the time the target allows (twice the baseline's).

    .venv/bin/python bench/bulk_upload.py [--rows 10000] [--rounds 3]
        [--engines postgres,sqlite] [--no-formats] [--keep-db]

Linux only (``/proc``); PostgreSQL needs a superuser (``--admin-dsn``). Exits 0 once it
has measured: FAIL in the output is the verdict.
"""

import argparse
import asyncio
import contextlib
import csv
import hashlib
import io
import json
import os
import random
import sqlite3
import statistics
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import offers_data
import upload_memory
from offers_http import UVICORN_FLAGS, create_database, database_url, drop_database
from upload_memory import free_port, memory_kb, reset_peak, run_cli

from app.offers.bulk.upsert import FIELD_NAMES
from app.search import text
from app.search.stemming import stemmed

MB = 1_000_000
KIB_TO_MB = 1024 / MB
TARGET_RATIO = 0.5
DEFAULT_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/test"
WARMUP_ROWS = 10
ORGANISATION = {
    "slug": "bench-bulk",
    "name": "Association Passerelles Bench",
    "kind": "association",
}
JSON_TYPE = "application/json"
NDJSON_TYPE = "application/x-ndjson"
CSV_TYPE = "text/csv; charset=utf-8"
FORMATS = {"json": JSON_TYPE, "ndjson": NDJSON_TYPE, "csv": CSV_TYPE}
OFFER_COLUMNS = offers_data.OFFER_COLUMNS
# What the comparison of stored rows looks at: everything but ids and timestamps.
COMPARED_COLUMNS = [*FIELD_NAMES, "status", "version"]
# SQLAlchemy's storage format for DateTime on SQLite (naive UTC, as UTCDateTime stores it).
SQLITE_DATETIME = "%Y-%m-%d %H:%M:%S.%f"


# The rows ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Upload:
    """The same offers as the API's three formats and as the columns of ``offer``."""

    rows: list[dict[str, Any]]  # OFFER_COLUMNS -> value, as offers_data made them
    bodies: dict[str, bytes]

    @property
    def count(self) -> int:
        return len(self.rows)


def _api_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(_api_value(value))


def make_upload(count: int, prefix: str, seed: int = 2026) -> Upload:
    """``count`` offers (references ``<prefix>-000001``…), as offers_data generates them
    for one organisation, and the bodies the API receives: only the fields an offer has."""
    rng = random.Random(seed)
    now = datetime.now(UTC).replace(microsecond=0)
    organisation = offers_data.Organisation(uuid.uuid4(), ORGANISATION["name"], ())
    rows = []
    for values in offers_data.offers(count, [organisation], rng, now, now.date()):
        row = dict(zip(OFFER_COLUMNS, values, strict=True))
        row["reference"] = f"{prefix}-{len(rows) + 1:06d}"
        rows.append(row)
    items = [
        {name: _api_value(row[name]) for name in FIELD_NAMES if row[name] is not None}
        for row in rows
    ]
    ndjson = "".join(json.dumps(item, ensure_ascii=False) + "\n" for item in items)
    table = io.StringIO()
    writer = csv.writer(table, lineterminator="\r\n")
    writer.writerow(FIELD_NAMES)
    writer.writerows([_csv_cell(row[name]) for name in FIELD_NAMES] for row in rows)
    bodies = {
        "json": json.dumps(items, ensure_ascii=False).encode(),
        "ndjson": ndjson.encode(),
        "csv": table.getvalue().encode(),
    }
    return Upload(rows, bodies)


def offer_records(upload: Upload, organisation_id: uuid.UUID) -> list[tuple[Any, ...]]:
    """The rows as the API stores them on creation: new ids, published now, version 1."""
    now = datetime.now(UTC)
    fixed = {
        "organisation_id": organisation_id,
        "status": "published",
        "published_at": now,
        "closed_at": None,
        "created_at": now,
        "updated_at": now,
        "version": 1,
    }
    return [
        tuple(
            uuid.uuid4() if name == "id" else fixed.get(name, row[name]) for name in OFFER_COLUMNS
        )
        for row in upload.rows
    ]


def _sqlite_value(value: Any) -> Any:
    """What SQLAlchemy binds on SQLite: UUID as 32 hex digits, naive UTC datetimes and
    dates as text, booleans as integers."""
    if isinstance(value, uuid.UUID):
        return value.hex
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime(SQLITE_DATETIME)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return int(value)
    return value


def sqlite_records(records: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    return [tuple(_sqlite_value(value) for value in record) for record in records]


def search_documents(
    records: list[tuple[Any, ...]], organisation_name: str
) -> list[tuple[Any, str, str, str]]:
    """(offer id, title, organisation, body) as the app's indexer analyses them."""
    position = {name: number for number, name in enumerate(OFFER_COLUMNS)}
    organisation = text.document(organisation_name)
    documents = []
    for record in records:
        parts = (record[position[name]] for name in ("description", "missions", "profile"))
        body = "\n".join(part for part in parts if part)
        documents.append(
            (record[0], text.document(record[position["title"]]), organisation, text.document(body))
        )
    return documents


# The engines ------------------------------------------------------------------------------


class Engine:
    """A database the server and this process share, and the baseline's bulk writes."""

    name: str
    url: str

    def prepare(self) -> None: ...

    def dispose(self, keep: bool) -> None: ...

    def empty(self) -> None:
        """Every offer gone, with its feed and search entries: the tables as fresh."""

    def counts(self, organisation_id: uuid.UUID) -> tuple[int, int, int]:
        """(offers, change-feed entries, search entries)."""
        raise NotImplementedError

    def queued(self) -> int:
        """Offers waiting for the search index (app.search.queue)."""
        raise NotImplementedError

    def fingerprint(self) -> str:
        """A hash of the stored offers' compared columns, in reference order."""
        raise NotImplementedError

    def baseline(self, upload: Upload, organisation_id: uuid.UUID) -> float:
        raise NotImplementedError

    def baseline_full(self, upload: Upload, organisation_id: uuid.UUID) -> float:
        raise NotImplementedError


def _digest(rows: Iterator[Any]) -> str:
    digest = hashlib.sha256()
    for row in rows:
        digest.update(repr(tuple(row)).encode())
    return digest.hexdigest()[:16]


class Postgres(Engine):
    name = "postgres"

    def __init__(self, admin_dsn: str, database: str) -> None:
        self.admin_dsn = admin_dsn
        self.database = database
        self.url = database_url(admin_dsn, database)
        self.dsn = self.url

    def prepare(self) -> None:
        asyncio.run(create_database(self.admin_dsn, self.database))

    def dispose(self, keep: bool) -> None:
        if keep:
            print(f"Kept PostgreSQL database {self.database}")
        else:
            asyncio.run(drop_database(self.admin_dsn, self.database))

    def _run(self, work: Callable[[asyncpg.Connection], Any]) -> Any:
        async def run() -> Any:
            connection = await asyncpg.connect(self.dsn)
            try:
                return await work(connection)
            finally:
                await connection.close()

        return asyncio.run(run())

    def empty(self) -> None:
        async def work(connection: asyncpg.Connection) -> None:
            await connection.execute(
                "TRUNCATE offer, offer_change, search_queue RESTART IDENTITY CASCADE"
            )

        self._run(work)

    def counts(self, organisation_id: uuid.UUID) -> tuple[int, int, int]:
        async def work(connection: asyncpg.Connection) -> tuple[int, int, int]:
            row = await connection.fetchrow(
                "SELECT (SELECT count(*) FROM offer WHERE organisation_id = $1),"
                " (SELECT count(*) FROM offer_change), (SELECT count(*) FROM offer_search)",
                organisation_id,
            )
            return row[0], row[1], row[2]

        result: tuple[int, int, int] = self._run(work)
        return result

    def queued(self) -> int:
        async def work(connection: asyncpg.Connection) -> int:
            count: int = await connection.fetchval("SELECT count(*) FROM search_queue")
            return count

        result: int = self._run(work)
        return result

    def fingerprint(self) -> str:
        async def work(connection: asyncpg.Connection) -> str:
            rows = await connection.fetch(
                f"SELECT {', '.join(COMPARED_COLUMNS)} FROM offer ORDER BY reference"  # noqa: S608
            )
            return _digest(iter(rows))

        result: str = self._run(work)
        return result

    def baseline(self, upload: Upload, organisation_id: uuid.UUID) -> float:
        records = offer_records(upload, organisation_id)

        async def work(connection: asyncpg.Connection) -> float:
            start = time.perf_counter()
            await connection.copy_records_to_table("offer", records=records, columns=OFFER_COLUMNS)
            return time.perf_counter() - start

        result: float = self._run(work)
        return result

    def baseline_full(self, upload: Upload, organisation_id: uuid.UUID) -> float:
        records = offer_records(upload, organisation_id)

        async def work(connection: asyncpg.Connection) -> float:
            start = time.perf_counter()
            now = datetime.now(UTC)
            documents = search_documents(records, ORGANISATION["name"])
            async with connection.transaction():
                await connection.copy_records_to_table(
                    "offer", records=records, columns=OFFER_COLUMNS
                )
                await connection.execute(
                    "CREATE TEMPORARY TABLE bench_document (offer_id uuid, title text,"
                    " organisation text, body text) ON COMMIT DROP"
                )
                await connection.copy_records_to_table("bench_document", records=documents)
                await connection.execute(
                    "INSERT INTO offer_search (offer_id, document) SELECT offer_id,"
                    " setweight(to_tsvector('vocation_fr', title), 'A') ||"
                    " setweight(to_tsvector('vocation_fr', organisation), 'B') ||"
                    " setweight(to_tsvector('vocation_fr', body), 'D') FROM bench_document"
                )
                await connection.copy_records_to_table(
                    "offer_change",
                    records=[(record[0], "created", now) for record in records],
                    columns=("offer_id", "change", "changed_at"),
                )
            return time.perf_counter() - start

        result: float = self._run(work)
        return result


class Sqlite(Engine):
    name = "sqlite"

    def __init__(self, path: Path) -> None:
        self.path = path
        self.url = f"sqlite:///{path}"

    def _connect(self) -> sqlite3.Connection:
        # The app's pragmas (app.core.db), in autocommit mode: BEGIN and COMMIT are ours.
        connection = sqlite3.connect(self.path, isolation_level=None)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA foreign_keys=ON")
        connection.execute("PRAGMA busy_timeout=5000")
        connection.execute("PRAGMA synchronous=NORMAL")
        return connection

    def dispose(self, keep: bool) -> None:
        if keep:
            kept = Path(tempfile.gettempdir()) / f"vocation-bulk-{os.getpid()}.db"
            with contextlib.closing(self._connect()) as connection:
                connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self.path.replace(kept)
            print(f"Kept SQLite database {kept}")

    def empty(self) -> None:
        with contextlib.closing(self._connect()) as connection:
            # IMMEDIATE: a deferred BEGIN that reads, then writes, fails at once ("database
            # is locked", no busy wait) if the server's search worker committed meanwhile.
            connection.execute("BEGIN IMMEDIATE")
            tables = ("offer_search", "offer_search_key", "search_queue", "offer_change")
            for table in (*tables, "offer"):
                connection.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed names
            connection.execute("COMMIT")
            connection.execute("VACUUM")
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def counts(self, organisation_id: uuid.UUID) -> tuple[int, int, int]:
        with contextlib.closing(self._connect()) as connection:
            row = connection.execute(
                "SELECT (SELECT count(*) FROM offer WHERE organisation_id = ?),"
                " (SELECT count(*) FROM offer_change), (SELECT count(*) FROM offer_search)",
                (organisation_id.hex,),
            ).fetchone()
        return row[0], row[1], row[2]

    def queued(self) -> int:
        with contextlib.closing(self._connect()) as connection:
            count: int = connection.execute("SELECT count(*) FROM search_queue").fetchone()[0]
        return count

    def fingerprint(self) -> str:
        with contextlib.closing(self._connect()) as connection:
            rows = connection.execute(
                f"SELECT {', '.join(COMPARED_COLUMNS)} FROM offer ORDER BY reference"  # noqa: S608
            )
            return _digest(rows)

    def baseline(self, upload: Upload, organisation_id: uuid.UUID) -> float:
        records = sqlite_records(offer_records(upload, organisation_id))
        insert = (
            f"INSERT INTO offer ({', '.join(OFFER_COLUMNS)}) "  # noqa: S608 - fixed names
            f"VALUES ({', '.join('?' for _ in OFFER_COLUMNS)})"
        )
        with contextlib.closing(self._connect()) as connection:
            start = time.perf_counter()
            connection.execute("BEGIN")
            connection.executemany(insert, records)
            connection.execute("COMMIT")
            return time.perf_counter() - start

    def baseline_full(self, upload: Upload, organisation_id: uuid.UUID) -> float:
        records = offer_records(upload, organisation_id)
        insert = (
            f"INSERT INTO offer ({', '.join(OFFER_COLUMNS)}) "  # noqa: S608 - fixed names
            f"VALUES ({', '.join('?' for _ in OFFER_COLUMNS)})"
        )
        with contextlib.closing(self._connect()) as connection:
            start = time.perf_counter()
            rows = sqlite_records(records)
            now = datetime.now(UTC).strftime(SQLITE_DATETIME)
            documents = [
                (stemmed(title), stemmed(organisation), stemmed(body), offer_id.hex)
                for offer_id, title, organisation, body in search_documents(
                    records, ORGANISATION["name"]
                )
            ]
            connection.execute("BEGIN")
            connection.executemany(insert, rows)
            connection.executemany(
                "INSERT INTO offer_search_key (offer_id) VALUES (?)",
                [(document[3],) for document in documents],
            )
            connection.executemany(
                "INSERT INTO offer_search (rowid, title, organisation, body) SELECT row, ?, ?, ?"
                " FROM offer_search_key WHERE offer_id = ?",
                documents,
            )
            connection.executemany(
                "INSERT INTO offer_change (offer_id, change, changed_at) VALUES (?, ?, ?)",
                [(row[0], "created", now) for row in rows],
            )
            connection.execute("COMMIT")
            return time.perf_counter() - start


# The server and the uploads ---------------------------------------------------------------


def server(
    env: dict[str, str], port: int, log_path: Path
) -> contextlib.AbstractContextManager[subprocess.Popen[bytes]]:
    """The app under uvicorn with offers_http's flags; a 10,000-row upload may still be
    finishing when asked to stop, hence the longer wait."""
    return upload_memory.server(env, port, log_path, flags=UVICORN_FLAGS, stop_timeout=30)


@dataclass
class Sent:
    seconds: float  # from sending to the report
    report: dict[str, Any]
    growth_kb: int  # the server's peak growth until the report
    searchable_seconds: float  # from sending to the queue for the search index emptied
    searchable_growth_kb: int  # the server's peak growth until then
    cpu: dict[str, float]  # CPU seconds until the report: server, check processes, PostgreSQL


# How often the search queue is looked at while waiting for it to empty.
QUEUE_POLL_SECONDS = 0.02


def send(
    client: httpx.Client,
    key: str,
    body: bytes,
    media_type: str,
    engine: Engine,
    pid: int | None = None,
    query: str = "",
) -> Sent:
    """One upload, timed from sending to the report, then until the server's search worker
    has indexed what it queued; the server's peak memory growth until each."""
    before = 0
    cpu_before: dict[str, float] = {}
    if pid is not None:
        for member in family(pid):
            reset_peak(member)
        before = peak_kb(pid)
        cpu_before = cpu_seconds(pid)
    start = time.perf_counter()
    response = client.post(
        f"/v1/offers/bulk{query}",
        content=body,
        headers={"Authorization": f"Bearer {key}", "Content-Type": media_type},
    )
    seconds = time.perf_counter() - start
    if response.status_code != 200:
        raise RuntimeError(f"the upload answered {response.status_code}: {response.text[:800]}")
    growth = peak_kb(pid) - before if pid is not None else 0
    cpu = {}
    if pid is not None:
        cpu = {name: spent - cpu_before[name] for name, spent in cpu_seconds(pid).items()}
    deadline = time.monotonic() + 600
    while engine.queued():
        if time.monotonic() > deadline:
            raise RuntimeError("the search queue did not empty in 10 minutes")
        time.sleep(QUEUE_POLL_SECONDS)
    searchable = time.perf_counter() - start
    searchable_growth = peak_kb(pid) - before if pid is not None else 0
    return Sent(seconds, response.json(), growth, searchable, searchable_growth, cpu)


def family(pid: int) -> list[int]:
    """The server and the processes it started to check uploads' rows (bulk.checks)."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [
        pid,
        *(int(child) for child in children if b"spawn_main" in _cmdline(int(child))),
    ]


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        return b""


_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _cpu_of(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICKS  # utime + stime


def cpu_seconds(pid: int) -> dict[str, float]:
    """CPU seconds used so far by the server, by its check processes, and by every
    PostgreSQL process of the machine (its backends, WAL writer, checkpointer): on a
    two-core machine they share the cores, which is what bounds the upload."""
    server, *checkers = family(pid)
    postgres = [
        int(entry.name)
        for entry in Path("/proc").iterdir()
        if entry.name.isdigit() and _comm(entry) == "postgres"
    ]
    return {
        "server": _cpu_of(server),
        "checks": sum(_cpu_of(checker) for checker in checkers),
        "postgres": sum(_cpu_of(backend) for backend in postgres),
    }


def _comm(entry: Path) -> str:
    try:
        return (entry / "comm").read_text().strip()
    except OSError:
        return ""


def peak_kb(pid: int) -> int:
    """The peaks (VmHWM) of the server and its check processes, added: an upper bound of
    their peak together."""
    return sum(memory_kb(member)[0] for member in family(pid))


def expect(sent: Sent, outcome: str, count: int, written: bool = True) -> None:
    report = sent.report
    if report[outcome] != count or report["failed"] or report["written"] != written:
        summary = {name: report[name] for name in ("created", "updated", "unchanged", "failed")}
        raise RuntimeError(f"expected {count} {outcome}, got {summary}: {report['errors'][:3]}")


@dataclass
class Measures:
    engine: str
    rows: int
    seconds: dict[str, list[float]] = field(default_factory=dict)
    growth_kb: dict[str, list[int]] = field(default_factory=dict)
    hwm_after_warmup_kb: int = 0
    rss_after_warmup_kb: int = 0
    stored: dict[str, tuple[int, int, int]] = field(default_factory=dict)
    cpu: list[dict[str, float]] = field(default_factory=list)  # of each JSON upload created
    dry_run_cpu: list[dict[str, float]] = field(default_factory=list)

    def add(self, name: str, seconds: float, growth_kb: int | None = None) -> None:
        self.seconds.setdefault(name, []).append(seconds)
        if growth_kb is not None:
            self.growth_kb.setdefault(name, []).append(growth_kb)

    def rate(self, name: str) -> float:
        return self.rows / statistics.median(self.seconds[name])


def setup(engine: Engine, env: dict[str, str]) -> str:
    """Migrate; return an admin key."""
    engine.prepare()
    run_cli(env, "migrate")
    return run_cli(env, "keys", "create", "--role", "admin").strip().splitlines()[-1]


def check_stored(
    engine: Engine, measures: Measures, name: str, organisation_id: uuid.UUID, full: bool
) -> None:
    offers, feed, search = engine.counts(organisation_id)
    expected = (measures.rows, measures.rows if full else 0, measures.rows if full else 0)
    if (offers, feed, search) != expected:
        raise RuntimeError(
            f"{name}: stored {offers} offers, {feed} feed and {search} search entries, "
            f"expected {expected}"
        )
    measures.stored[name] = (offers, feed, search)


def measure_engine(
    engine: Engine, upload: Upload, args: argparse.Namespace, work: Path
) -> Measures:
    env = {
        **os.environ,
        "VOCATION_DATABASE_URL": engine.url,
        "VOCATION_UPLOAD_DIR": str(work / "uploads"),
        "VOCATION_STORAGE_URL": "",
        # Every request comes from 127.0.0.1: no per-address limit in a benchmark.
        "VOCATION_RATE_LIMIT_DEFAULT": "",
        "VOCATION_BULK_MAX_ROWS": str(max(upload.count, 10_000)),
        "VOCATION_BULK_MAX_BYTES": str(
            max(64 * 1024 * 1024, 2 * max(len(body) for body in upload.bodies.values()))
        ),
    }
    measures = Measures(engine.name, upload.count)
    admin_key = setup(engine, env)
    port = free_port()
    warmup = make_upload(WARMUP_ROWS, "WARMUP", seed=7)
    with (
        server(env, port, work / f"{engine.name}-server.log") as process,
        httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=900) as client,
    ):
        created = client.post(
            "/v1/organisations",
            headers={"Authorization": f"Bearer {admin_key}"},
            json=ORGANISATION,
        )
        created.raise_for_status()
        organisation_id = uuid.UUID(created.json()["id"])
        key = run_cli(
            env, "keys", "create", "--role", "recruiter", "--organisation", ORGANISATION["slug"]
        )
        key = key.strip().splitlines()[-1]
        # Warm-up: every format's path, creations and unchanged rows.
        for name, media_type in FORMATS.items():
            engine.empty()
            for outcome in ("created", "unchanged"):
                sent = send(client, key, warmup.bodies[name], media_type, engine)
                expect(sent, outcome, WARMUP_ROWS)
        engine.empty()
        for member in family(process.pid):
            reset_peak(member)
        measures.hwm_after_warmup_kb, measures.rss_after_warmup_kb = memory_kb(process.pid)
        checkers = family(process.pid)[1:]
        print(
            f"{engine.name}: {len(checkers)} check process(es), VmRSS "
            f"{sum(memory_kb(pid)[1] for pid in checkers) * KIB_TO_MB:.1f} MB"
        )
        print(
            f"\n{engine.name}: server after warm-up VmHWM "
            f"{measures.hwm_after_warmup_kb * KIB_TO_MB:.1f} MB, VmRSS "
            f"{measures.rss_after_warmup_kb * KIB_TO_MB:.1f} MB"
        )
        print(f"{'round':>5}  {'step':<26} {'seconds':>8} {'rows/s':>9} {'peak +MB':>9}")
        reference_print: str | None = None

        def line(number: int, name: str, seconds: float, growth: int | None = None) -> None:
            peak = f"{growth * KIB_TO_MB:>9.1f}" if growth is not None else f"{'':>9}"
            print(
                f"{number:>5}  {name:<26} {seconds:>8.3f} {upload.count / seconds:>9.0f} {peak}",
                flush=True,
            )

        def api(number: int) -> None:
            nonlocal reference_print
            engine.empty()
            sent = send(client, key, upload.bodies["json"], JSON_TYPE, engine, process.pid)
            expect(sent, "created", upload.count)
            check_stored(engine, measures, "api", organisation_id, full=True)
            measures.add("api", sent.seconds, sent.growth_kb)
            measures.cpu.append(sent.cpu)
            line(number, "api (JSON, created)", sent.seconds, sent.growth_kb)
            print(f"{'':>5}  {'':<26} CPU s: {_cpu_text(sent.cpu)}")
            measures.add("api, searchable", sent.searchable_seconds, sent.searchable_growth_kb)
            line(
                number, "  ... until searchable", sent.searchable_seconds, sent.searchable_growth_kb
            )
            if number == 1:
                reference_print = engine.fingerprint()
            again = send(client, key, upload.bodies["json"], JSON_TYPE, engine, process.pid)
            expect(again, "unchanged", upload.count)
            measures.add("api unchanged", again.seconds, again.growth_kb)
            line(number, "api (JSON, unchanged)", again.seconds, again.growth_kb)
            # Reading and checking alone, on empty tables: what the upload costs before it
            # writes anything.
            engine.empty()
            dry = send(
                client, key, upload.bodies["json"], JSON_TYPE, engine, process.pid, "?dry_run=true"
            )
            expect(dry, "created", upload.count, written=False)
            measures.add("api dry run", dry.seconds, dry.growth_kb)
            measures.dry_run_cpu.append(dry.cpu)
            line(number, "api (JSON, dry run)", dry.seconds, dry.growth_kb)

        def baseline(number: int) -> None:
            engine.empty()
            seconds = engine.baseline(upload, organisation_id)
            check_stored(engine, measures, "baseline", organisation_id, full=False)
            if number == 1 and reference_print is not None:
                stored = engine.fingerprint()
                if stored != reference_print:
                    raise RuntimeError("the baseline stored other values than the API")
                print("       (the baseline stored the same values as the API)")
            measures.add("baseline", seconds)
            line(
                number,
                f"baseline ({'COPY' if engine.name == 'postgres' else 'executemany'})",
                seconds,
            )
            engine.empty()
            seconds = engine.baseline_full(upload, organisation_id)
            check_stored(engine, measures, "baseline + feed + index", organisation_id, full=True)
            measures.add("baseline + feed + index", seconds)
            line(number, "baseline + feed + index", seconds)

        for number in range(1, args.rounds + 1):
            # Alternate which goes first; the API's first round comes first, so that the
            # baseline's values can be compared with what the API stored.
            steps = (api, baseline) if number % 2 == 1 else (baseline, api)
            for step in steps:
                step(number)
            if args.formats:
                for name in ("ndjson", "csv"):
                    engine.empty()
                    body, media_type = upload.bodies[name], FORMATS[name]
                    sent = send(client, key, body, media_type, engine, process.pid)
                    expect(sent, "created", upload.count)
                    check_stored(engine, measures, f"api {name}", organisation_id, full=True)
                    measures.add(f"api ({name.upper()})", sent.seconds, sent.growth_kb)
                    line(number, f"api ({name.upper()}, created)", sent.seconds, sent.growth_kb)
    return measures


# Report -----------------------------------------------------------------------------------


def _cpu_medians(cpus: list[dict[str, float]]) -> dict[str, float]:
    return {name: statistics.median(cpu[name] for cpu in cpus) for name in cpus[0]}


def _cpu_text(cpu: dict[str, float]) -> str:
    return ", ".join(f"{name} {seconds:.2f}" for name, seconds in cpu.items())


def report(all_measures: list[Measures], upload: Upload, rounds: int) -> None:
    sizes = ", ".join(f"{name} {len(body) / MB:.1f} MB" for name, body in upload.bodies.items())
    print()
    print(f"{upload.count:,} offers in one request ({sizes}); medians over {rounds} rounds")
    for measures in all_measures:
        base_rate = measures.rate("baseline")
        print()
        print(f"== {measures.engine} ==")
        print(
            f"{'step':<28} {'median s':>9} {'rows/s':>9} {'vs baseline':>12} {'peak +MB (max)':>14}"
        )
        for name in measures.seconds:
            rate = measures.rate(name)
            growth = measures.growth_kb.get(name)
            peak = ""
            if growth:
                peak = (
                    f"{statistics.median(growth) * KIB_TO_MB:.1f} (max "
                    f"{max(growth) * KIB_TO_MB:.1f})"
                )
            print(
                f"{name:<28} {statistics.median(measures.seconds[name]):>9.3f} {rate:>9.0f} "
                f"{rate / base_rate:>12.3f} {peak:>14}"
            )
        ratio = measures.rate("api") / base_rate
        per_round = [
            base / api
            for api, base in zip(measures.seconds["api"], measures.seconds["baseline"], strict=True)
        ]
        full = measures.rate("api, searchable") / measures.rate("baseline + feed + index")
        api_growth = max(measures.growth_kb["api"]) * KIB_TO_MB
        verdict = "PASS" if ratio >= TARGET_RATIO else "FAIL"
        print(
            f"ratio api / baseline {ratio:.3f} (per round {min(per_round):.3f}-"
            f"{max(per_round):.3f}), target >= {TARGET_RATIO}: {verdict}"
        )
        print(f"ratio api until searchable / (baseline + feed + index) {full:.3f}")
        medians = _cpu_medians(measures.cpu)
        print(f"CPU seconds during the JSON upload (medians): {_cpu_text(medians)}")
        dry_run = _cpu_medians(measures.dry_run_cpu)
        print(f"CPU seconds during the dry run (medians): {_cpu_text(dry_run)}")
        # However well the work overlaps, the machine's cores give at most this many CPU
        # seconds per second: the upload cannot answer sooner than this floor.
        cores = len(os.sched_getaffinity(0))  # the cores this process may use (Linux)
        floor = sum(medians.values()) / cores
        target = statistics.median(measures.seconds["baseline"]) / TARGET_RATIO
        print(
            f"CPU floor: {sum(medians.values()):.2f} CPU s on {cores} cores, so no answer "
            f"before {floor:.3f} s here; the target needs one within {target:.3f} s"
        )
        print(
            f"server peak memory growth during the JSON upload (with its check processes): "
            f"{api_growth:.1f} MB (max over "
            f"rounds; after warm-up VmHWM {measures.hwm_after_warmup_kb * KIB_TO_MB:.1f} MB)"
        )


# Main -------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description="Bulk upload against the driver's bulk path.")
    parser.add_argument("--rows", type=int, default=10_000, help="offers in the upload")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--engines", default="postgres,sqlite", help="postgres, sqlite or both")
    parser.add_argument("--admin-dsn", default=DEFAULT_ADMIN_DSN, help="a superuser's URL")
    parser.add_argument("--database", default=f"vocation_bulk_{os.getpid()}")
    parser.add_argument(
        "--no-formats", dest="formats", action="store_false", help="skip NDJSON and CSV"
    )
    parser.add_argument("--keep-db", action="store_true", help="keep the databases")
    args = parser.parse_args()
    engines = [name.strip() for name in args.engines.split(",") if name.strip()]
    if not engines or set(engines) - {"postgres", "sqlite"}:
        parser.error("--engines takes postgres, sqlite or postgres,sqlite")
    if args.rounds < 1 or args.rows < 1:
        parser.error("--rows and --rounds must be at least 1")

    upload = make_upload(args.rows, "BULK")
    results = []
    work = Path(tempfile.mkdtemp(prefix="vocation-bench-"))
    try:
        for name in engines:
            engine: Engine = (
                Postgres(args.admin_dsn, args.database)
                if name == "postgres"
                else Sqlite(work / "bench.db")
            )
            try:
                results.append(measure_engine(engine, upload, args, work))
            finally:
                engine.dispose(args.keep_db)
    finally:
        for path in sorted(work.rglob("*"), reverse=True):
            path.rmdir() if path.is_dir() else path.unlink()
        work.rmdir()
    report(results, upload, args.rounds)


if __name__ == "__main__":
    main()
