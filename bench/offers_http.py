"""Read benchmark on PostgreSQL: the public offer routes against a bare ASGI baseline, and
the server's peak memory while it streams the full RSS feed.

Creates a throwaway PostgreSQL database, migrates it with ``vocation migrate``, fills it
with generated organisations and published offers (``offers_data.py``: COPY, then the
app's own search indexer, then ``VACUUM ANALYZE``), and starts two servers with the same
uvicorn settings (one process, uvloop, httptools, no access log):

- the app, ``app.main:app``, with its middleware, validation and layers;
- the baseline, ``bench/baseline_app.py``: a bare ASGI callable that runs the same SQL
  statement (built by the app's own builders) through the same engine, driver and
  AUTOCOMMIT reader, and returns the same JSON made by the same pydantic models.

It first checks that both answer each route with the same bytes, then loads each route
with ``loadgen.py`` (its own process, keep-alive connections, fixed duration), baseline and
app in turn, for several rounds, alternating which goes first. It reports the median
requests per second and p50/p99 latency of each, and the ratio app / baseline, against a
target of at least 0.5 on every route:

- list with two filters: ``GET /v1/offers?contract_type=cdd&departement=75``;
- search: ``GET /v1/offers?q=médiation culturelle``;
- detail: ``GET /v1/offers/{id}``, over 2,000 offers taken at random.

Last, on a fresh app server, the growth of its peak resident memory (``VmHWM``, reset
after a warm-up with ``clear_refs``) while it streams ``GET /v1/feeds/offers.rss`` with
``limit=100000`` to the end, next to the same for the default 100-offer feed.

    .venv/bin/python bench/offers_http.py [--offers 100000] [--duration 10] [--connections 12]
        [--rounds 3] [--keep-db] [--database NAME]

Linux only (``/proc``), needs a PostgreSQL superuser (``--admin-dsn``). The database is
dropped at the end unless ``--keep-db``; ``--database NAME`` reuses a database kept so, if
it holds the same number of offers. Exits 0 once it has measured: FAIL is the verdict.
"""

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

import asyncpg
import httpx
import offers_data
import upload_memory
from sqlalchemy.engine import make_url
from upload_memory import ROOT, free_port, memory_kb, reset_peak, run_cli

from app.core.db import Database, create_engine
from app.offers import listing

MB = 1_000_000
KIB_TO_MB = 1024 / MB
TARGET_RATIO = 0.5
DEFAULT_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/test"
ZONE = ZoneInfo("Europe/Paris")
DETAIL_OFFERS = 2_000
# The same for both servers: one process, the fastest loop and parser uvicorn offers.
UVICORN_FLAGS = [
    "--host",
    "127.0.0.1",
    "--loop",
    "uvloop",
    "--http",
    "httptools",
    "--no-access-log",
    "--log-level",
    "warning",
]
SERVERS = ("baseline", "app")


@dataclass(frozen=True)
class Route:
    name: str
    label: str
    targets: list[str]


@dataclass
class Measures:
    runs: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)

    def add(self, route: str, server: str, result: dict[str, Any]) -> None:
        self.runs.setdefault((route, server), []).append(result)

    def median(self, route: str, server: str, key: str) -> float:
        return statistics.median(run[key] for run in self.runs[(route, server)])


@dataclass
class FeedRun:
    limit: int
    items: int
    body_bytes: int
    seconds: float
    growth_kb: int


# The database ------------------------------------------------------------------------


def database_url(admin_dsn: str, name: str) -> str:
    return make_url(admin_dsn).set(database=name).render_as_string(hide_password=False)


async def offers_in(url: str) -> int | None:
    """How many offers the database holds; None when it does not exist."""
    try:
        connection = await asyncpg.connect(url)
    except asyncpg.InvalidCatalogNameError:
        return None
    try:
        count: int = await connection.fetchval("SELECT count(*) FROM offer")
        return count
    except asyncpg.UndefinedTableError:
        return 0
    finally:
        await connection.close()


async def create_database(admin_dsn: str, name: str) -> None:
    connection = await asyncpg.connect(admin_dsn)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()


async def drop_database(admin_dsn: str, name: str) -> None:
    connection = await asyncpg.connect(admin_dsn)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


async def fill(url: str, offers: int, organisations: int, today: date) -> None:
    engine = create_engine(url)
    try:
        timings = await offers_data.populate(
            url, engine, offer_count=offers, organisation_count=organisations, today=today
        )
    finally:
        await engine.dispose()
    for step, seconds in timings.items():
        print(f"  {step:<44} {seconds:6.1f} s")


async def detail_ids(url: str, count: int) -> list[str]:
    """Published offers in a fixed pseudo-random order (the same on a reused database)."""
    connection = await asyncpg.connect(url)
    try:
        rows = await connection.fetch(
            "SELECT id FROM offer WHERE status = 'published' ORDER BY md5(id::text) LIMIT $1",
            count,
        )
    finally:
        await connection.close()
    return [str(row["id"]) for row in rows]


async def open_offers(url: str, filters: listing.OfferFilters, today: date) -> int:
    """How many open offers match: the app's own count (the feeds' ETag uses it)."""
    database = Database(create_engine(url))
    try:
        async with database.reader.connect() as reader:
            return (await listing.listing_stamp(reader, filters, today)).count
    finally:
        await database.dispose()


# Servers and load ----------------------------------------------------------------------


def server(
    target: str, env: dict[str, str], port: int, log_path: Path
) -> contextlib.AbstractContextManager[subprocess.Popen[bytes]]:
    """uvicorn serving ``target`` with UVICORN_FLAGS."""
    return upload_memory.server(env, port, log_path, target=target, flags=UVICORN_FLAGS)


def check_same_json(ports: dict[str, int], routes: list[Route]) -> None:
    """Both servers must answer the same bytes, or the comparison means nothing."""
    with httpx.Client(timeout=60) as client:
        for route in routes:
            for target in route.targets[:3]:
                answers = {
                    name: client.get(f"http://127.0.0.1:{port}{target}")
                    for name, port in ports.items()
                }
                for name, answer in answers.items():
                    if answer.status_code != 200:
                        raise RuntimeError(f"{name} answered {answer.status_code} to {target}")
                app, baseline = answers["app"], answers["baseline"]
                if app.content != baseline.content:
                    raise RuntimeError(f"app and baseline bodies differ for {target}")
                if app.headers["content-type"] != baseline.headers["content-type"]:
                    raise RuntimeError(f"app and baseline Content-Type differ for {target}")


def load(port: int, paths: Path, connections: int, duration: float, warmup: float) -> Any:
    done = subprocess.run(  # noqa: S603 - our own interpreter and fixed arguments
        [
            sys.executable,
            str(ROOT / "bench" / "loadgen.py"),
            "--port",
            str(port),
            "--paths",
            str(paths),
            "--connections",
            str(connections),
            "--duration",
            str(duration),
            "--warmup",
            str(warmup),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"loadgen failed:\n{done.stdout}{done.stderr}")
    if done.stderr:
        print(done.stderr.rstrip(), file=sys.stderr)
    return json.loads(done.stdout)


def measure(
    ports: dict[str, int], routes: list[Route], work: Path, args: argparse.Namespace
) -> Measures:
    measures = Measures()
    files = {}
    for route in routes:
        files[route.name] = work / f"{route.name}.txt"
        files[route.name].write_text("\n".join(route.targets) + "\n")
    print()
    print(f"{'round':>5}  {'route':<8} {'server':<9} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} err")
    for number in range(args.rounds):
        # Alternate who goes first, so that neither always runs on a warmer machine.
        order = SERVERS if number % 2 == 0 else tuple(reversed(SERVERS))
        for route in routes:
            for name in order:
                result = load(
                    ports[name], files[route.name], args.connections, args.duration, args.warmup
                )
                measures.add(route.name, name, result)
                print(
                    f"{number + 1:>5}  {route.name:<8} {name:<9} {result['rps']:>8.1f} "
                    f"{result['p50_ms']:>8.1f} {result['p99_ms']:>8.1f} {result['errors']}",
                    flush=True,
                )
    return measures


# The RSS feed's memory -----------------------------------------------------------------


def stream_feed(client: httpx.Client, pid: int, limit: int) -> FeedRun:
    """Reset the server's peak, stream the feed to its end without keeping it, and
    return how far the peak rose above the resident size at the start."""
    reset_peak(pid)
    hwm_before, _rss = memory_kb(pid)
    items = size = 0
    tail = b""
    start = time.perf_counter()
    with client.stream("GET", "/v1/feeds/offers.rss", params={"limit": limit}) as response:
        if response.status_code != 200:
            raise RuntimeError(f"the feed answered {response.status_code}")
        for chunk in response.iter_raw():
            size += len(chunk)
            # An <item> cut in two by a chunk boundary is counted once, in the join.
            joined = tail + chunk
            items += joined.count(b"<item>")
            tail = joined[-5:]
    seconds = time.perf_counter() - start
    hwm_after, _rss = memory_kb(pid)
    return FeedRun(limit, items, size, seconds, hwm_after - hwm_before)


def measure_feed(env: dict[str, str], work: Path, limit: int, runs: int) -> list[FeedRun]:
    port = free_port()
    results = []
    with (
        server("app.main:app", env, port, work / "feed-server.log") as process,
        httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=600) as client,
    ):
        for _ in range(2):  # warm-up: imports, pool, compiled statements, a feed's path
            client.get("/v1/feeds/offers.rss").raise_for_status()
            client.get("/v1/offers").raise_for_status()
        for _ in range(runs):
            results.append(stream_feed(client, process.pid, 100))
            results.append(stream_feed(client, process.pid, limit))
    return results


# Report --------------------------------------------------------------------------------


def report(
    measures: Measures, routes: list[Route], feed: list[FeedRun], args: argparse.Namespace
) -> bool:
    print()
    print(
        f"{args.offers:,} offers, {args.connections} connections, {args.rounds} rounds of "
        f"{args.duration:g} s per route and server (medians over the rounds)"
    )
    print()
    header = (
        f"{'route':<8} {'baseline req/s':>14} {'p50':>6} {'p99':>6}   "
        f"{'app req/s':>9} {'p50':>6} {'p99':>6}   {'ratio':>5} {'per round':>13}  verdict"
    )
    print(header)
    passed = True
    for route in routes:
        base_rps = measures.median(route.name, "baseline", "rps")
        app_rps = measures.median(route.name, "app", "rps")
        ratio = app_rps / base_rps
        per_round = [
            app["rps"] / base["rps"]
            for app, base in zip(
                measures.runs[(route.name, "app")],
                measures.runs[(route.name, "baseline")],
                strict=True,
            )
        ]
        errors = sum(run["errors"] for name in SERVERS for run in measures.runs[(route.name, name)])
        ok = ratio >= TARGET_RATIO and errors == 0
        passed = passed and ok
        print(
            f"{route.name:<8} {base_rps:>14.1f} "
            f"{measures.median(route.name, 'baseline', 'p50_ms'):>6.1f} "
            f"{measures.median(route.name, 'baseline', 'p99_ms'):>6.1f}   "
            f"{app_rps:>9.1f} {measures.median(route.name, 'app', 'p50_ms'):>6.1f} "
            f"{measures.median(route.name, 'app', 'p99_ms'):>6.1f}   {ratio:>5.3f} "
            f"{min(per_round):>6.2f}-{max(per_round):<6.2f}  {'PASS' if ok else 'FAIL'}"
            + (f" ({errors} errors)" if errors else "")
        )
    print("(latencies in ms; ratio = app req/s / baseline req/s; target >= 0.5 on each route)")
    for route in routes:
        print(f"  {route.name:<8} {route.label}")
    print()
    for run in feed:
        print(
            f"RSS feed limit={run.limit:<7,} {run.items:>7,} items  "
            f"{run.body_bytes / MB:>7.1f} MB body  {run.seconds:>6.1f} s  "
            f"server peak growth (VmHWM) {run.growth_kb * KIB_TO_MB:>5.1f} MB"
        )
    verdict = "PASS" if passed else "FAIL"
    print()
    print(f"{'throughput target >= 0.5 of baseline':<40} {verdict}")
    return passed


# Main ----------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description="Offer routes against a bare ASGI baseline.")
    parser.add_argument("--offers", type=int, default=100_000)
    parser.add_argument("--organisations", type=int, default=200)
    parser.add_argument("--duration", type=float, default=10.0, help="measured s per run")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured s per run")
    parser.add_argument("--connections", type=int, default=12)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--contract-type", default="cdd", help="first filter of the list")
    parser.add_argument("--departement", default="75", help="second filter of the list")
    parser.add_argument("--search", default="médiation culturelle", help="q of the search")
    parser.add_argument("--feed-limit", type=int, default=100_000)
    parser.add_argument("--feed-runs", type=int, default=1)
    parser.add_argument("--admin-dsn", default=DEFAULT_ADMIN_DSN, help="a superuser's URL")
    parser.add_argument("--database", default=f"vocation_bench_{os.getpid()}")
    parser.add_argument("--keep-db", action="store_true", help="do not drop the database")
    parser.add_argument(
        "--rate-limit",
        default="",
        help="VOCATION_RATE_LIMIT_DEFAULT for the app (e.g. 10000000/minute); "
        "empty (the default) turns the per-address limit off",
    )
    args = parser.parse_args()
    if args.rounds < 1 or args.connections < 1:
        parser.error("--rounds and --connections must be at least 1")

    today = datetime.now(ZONE).date()
    url = database_url(args.admin_dsn, args.database)
    env = {
        **os.environ,
        "VOCATION_DATABASE_URL": url,
        "VOCATION_TIMEZONE": str(ZONE),
        # Every request comes from 127.0.0.1: the per-address limit (6,000 a minute by
        # default) would answer 429 within seconds.
        "VOCATION_RATE_LIMIT_DEFAULT": args.rate_limit,
    }
    created = False
    work = Path(tempfile.mkdtemp(prefix="vocation-bench-"))
    try:
        existing = asyncio.run(offers_in(url))
        if existing == args.offers:
            print(f"Reusing database {args.database} ({existing:,} offers)")
        elif existing is not None:
            raise SystemExit(
                f"database {args.database} holds {existing:,} offers, not {args.offers:,}: "
                "drop it or name another"
            )
        else:
            print(f"Creating database {args.database} with {args.offers:,} offers")
            asyncio.run(create_database(args.admin_dsn, args.database))
            created = True
            run_cli(env, "migrate")
            asyncio.run(fill(url, args.offers, args.organisations, today))
        list_filters = listing.OfferFilters(
            contract_type=[args.contract_type], departement=[args.departement]
        )
        search_filters = listing.OfferFilters(q=args.search)
        list_query = urlencode(
            {"contract_type": args.contract_type, "departement": args.departement}
        )
        routes = [
            Route("list", f"GET /v1/offers?{list_query}", [f"/v1/offers?{list_query}"]),
            Route(
                "search",
                f"GET /v1/offers?q={args.search}",
                [f"/v1/offers?q={quote(args.search)}"],
            ),
            Route(
                "detail",
                f"GET /v1/offers/{{id}} ({DETAIL_OFFERS:,} offers, in turn)",
                [f"/v1/offers/{offer}" for offer in asyncio.run(detail_ids(url, DETAIL_OFFERS))],
            ),
        ]
        print(
            f"Open offers: {asyncio.run(open_offers(url, listing.OfferFilters(), today)):,}; "
            f"matching the list's filters: {asyncio.run(open_offers(url, list_filters, today)):,}"
            f"; the search: {asyncio.run(open_offers(url, search_filters, today)):,}"
        )
        ports = {name: free_port() for name in SERVERS}
        with (
            server("bench.baseline_app:app", env, ports["baseline"], work / "baseline.log"),
            server("app.main:app", env, ports["app"], work / "app.log"),
        ):
            check_same_json(ports, routes)
            print("Both servers answer the same JSON on every route.")
            measures = measure(ports, routes, work, args)
        feed = measure_feed(env, work, args.feed_limit, args.feed_runs)
        report(measures, routes, feed, args)
    finally:
        if created and not args.keep_db:
            asyncio.run(drop_database(args.admin_dsn, args.database))
        elif created:
            print(f"Kept database {args.database}: --database {args.database} reuses it")
        for log in work.glob("*"):
            log.unlink()
        work.rmdir()


if __name__ == "__main__":
    main()
