"""Read benchmark on PostgreSQL: the public offer routes of the app against two baselines,
and the server's peak memory while it streams the full RSS feed.

Creates a throwaway PostgreSQL database, migrates it with ``vocation migrate``, fills it
with generated organisations and published offers (``offers_data.py``: COPY, then the
app's own search indexer, then ``VACUUM ANALYZE``), and starts three servers with the same
uvicorn settings (one process, uvloop, httptools, no access log):

- the app, ``app.main:app``, with its middleware, validation, ETags and rate limiter (on,
  at a limit it never reaches);
- the framework-share baseline, ``bench/baseline_app.py``: a bare ASGI callable that runs
  the same SQL statement (built by the app's own builders) through the same engine, driver
  and AUTOCOMMIT reader, and returns the same JSON made by the same pydantic models;
- the independent baseline, ``bench/bare_app.py``: a bare Starlette app on an asyncpg pool
  with hand-written SQL and orjson, which imports nothing from ``app``.

Each server runs pinned to one core (``--server-cpu``), the load generator and
PostgreSQL (its postmaster and every backend, put back as they were at the end) on the
others. It first checks that the three answer each route with the same bytes, then loads
each route with ``loadgen.py`` (its own process, keep-alive connections, fixed duration),
the three servers in turn, for several rounds, rotating which goes first. It reports the
median requests per second and p50/p99 latency of each, the ratio app / independent
baseline against the issue's targets, and the ratio app / framework-share baseline:

- list with two filters: ``GET /v1/offers?contract_type=cdd&departement=75``, at least 0.5;
- search: ``GET /v1/offers?q=médiation culturelle``, at least 0.7;
- detail: ``GET /v1/offers/{id}``, over 2,000 offers taken at random, at least 0.35.

Last, on a fresh app server, the growth of its peak resident memory (``VmHWM``, reset
after a warm-up with ``clear_refs``) while it streams ``GET /v1/feeds/offers.rss`` with
``limit=100000`` to the end, next to the same for the default 100-offer feed.

    .venv/bin/python bench/offers_http.py [--offers 100000] [--duration 10] [--connections 12]
        [--rounds 3] [--keep-db] [--database NAME] [--server-cpu 0] [--no-pin]

Linux only (``/proc``, ``taskset``), needs a PostgreSQL superuser (``--admin-dsn``) on
this machine to pin PostgreSQL, and root to pin its processes (without either, it says so
and measures without pinning PostgreSQL). The database is dropped at the end unless
``--keep-db``; ``--database NAME`` reuses a database kept so, if it holds the same number
of offers. Exits 0 once it has measured: FAIL is the verdict.
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
from collections.abc import Iterator
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
# The targets, app / independent baseline, per route.
TARGETS = {"list": 0.5, "search": 0.7, "detail": 0.35}
# The target this benchmark had against the framework-share baseline alone: shown, not judged.
FRAMEWORK_TARGET = 0.5
# Far above what one client machine sends: the limiter works on every request, never refuses.
UNREACHED_RATE_LIMIT = "10000000/minute"
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
SERVERS = ("app", "baseline", "bare")
TARGETS_OF = {
    "app": "app.main:app",
    "baseline": "bench.baseline_app:app",
    "bare": "bench.bare_app:app",
}


@dataclass(frozen=True)
class Route:
    name: str
    label: str
    targets: list[str]


@dataclass(frozen=True)
class Cores:
    """Where each process runs: ``server`` for the server under load, ``rest`` for the
    load generator and PostgreSQL. Empty tuples: not pinned."""

    server: tuple[int, ...] = ()
    rest: tuple[int, ...] = ()


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


# Cores ---------------------------------------------------------------------------------


def cores(server_cpu: int | None) -> Cores:
    """``server_cpu`` for the servers, the other cores this process may use for the rest;
    no pinning when there is no other core, or when ``server_cpu`` is None."""
    available = sorted(os.sched_getaffinity(0))
    if server_cpu is None:
        return Cores()
    if server_cpu not in available:
        raise SystemExit(f"--server-cpu {server_cpu}: not one of this machine's {available}")
    rest = tuple(cpu for cpu in available if cpu != server_cpu)
    if not rest:
        print("One core only: nothing is pinned.")
        return Cores()
    return Cores(server=(server_cpu,), rest=rest)


async def postmaster_pid(admin_dsn: str) -> int:
    """The PostgreSQL server's main process, from ``postmaster.pid`` in its data directory
    (the server must run on this machine, and the user be a superuser)."""
    connection = await asyncpg.connect(admin_dsn)
    try:
        data_directory: str = await connection.fetchval("SHOW data_directory")
    finally:
        await connection.close()
    return int((Path(data_directory) / "postmaster.pid").read_text().split()[0])


def children(parent: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # gone meanwhile
            continue
        # pid (comm) state ppid ...: comm may hold spaces and parentheses.
        if int(stat.rpartition(")")[2].split()[1]) == parent:
            found.append(int(entry.name))
    return found


def pin_tree(root: int, cpus: set[int]) -> int:
    """Pin every thread of ``root`` and of its children (``taskset -a -p``); new children
    inherit the root's mask. Returns how many processes were pinned."""
    pinned = 0
    for pid in [root, *children(root)]:
        try:
            for task in Path(f"/proc/{pid}/task").iterdir():
                with contextlib.suppress(ProcessLookupError):
                    os.sched_setaffinity(int(task.name), cpus)
        except (FileNotFoundError, ProcessLookupError):  # ended meanwhile
            continue
        pinned += 1
    return pinned


@contextlib.contextmanager
def postgres_pinned(admin_dsn: str, cpus: tuple[int, ...]) -> Iterator[None]:
    """PostgreSQL's processes on ``cpus`` while the block runs, then back on the cores
    its postmaster had. Says so and goes on unpinned when it cannot."""
    if not cpus:
        yield
        return
    try:
        postmaster = asyncio.run(postmaster_pid(admin_dsn))
        before = os.sched_getaffinity(postmaster)
        pinned = pin_tree(postmaster, set(cpus))
    except (OSError, asyncpg.PostgresError) as error:
        print(
            f"PostgreSQL NOT pinned ({type(error).__name__}: {error}): its processes run on "
            "every core, the servers' included"
        )
        yield
        return
    print(
        f"PostgreSQL pinned to cores {_cpu_list(cpus)}: postmaster {postmaster} and "
        f"{pinned - 1} other processes (and every backend they start)"
    )
    try:
        yield
    finally:
        pin_tree(postmaster, before)
        print(f"PostgreSQL's processes back on cores {_cpu_list(tuple(sorted(before)))}")


def _cpu_list(cpus: tuple[int, ...]) -> str:
    return ",".join(map(str, cpus))


def _taskset(cpus: tuple[int, ...]) -> list[str]:
    return ["taskset", "--cpu-list", _cpu_list(cpus)] if cpus else []


# Servers and load ----------------------------------------------------------------------


def server(
    target: str, env: dict[str, str], port: int, log_path: Path, cpus: tuple[int, ...] = ()
) -> contextlib.AbstractContextManager[subprocess.Popen[bytes]]:
    """uvicorn serving ``target`` with UVICORN_FLAGS, pinned to ``cpus`` if any."""
    return upload_memory.server(env, port, log_path, target=target, flags=UVICORN_FLAGS, cpus=cpus)


def check_same_json(ports: dict[str, int], routes: list[Route]) -> None:
    """Every server must answer the same bytes as the app, or the comparison means
    nothing."""
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
                app = answers["app"]
                for name, answer in answers.items():
                    if answer.content != app.content:
                        raise RuntimeError(f"app and {name} bodies differ for {target}")
                    if answer.headers["content-type"] != app.headers["content-type"]:
                        raise RuntimeError(f"app and {name} Content-Type differ for {target}")


def load(
    port: int,
    paths: Path,
    connections: int,
    duration: float,
    warmup: float,
    cpus: tuple[int, ...] = (),
) -> Any:
    done = subprocess.run(  # noqa: S603 - our own interpreter and fixed arguments
        [
            *_taskset(cpus),
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


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process, all its threads, so far."""
    # pid (comm) state ppid ...: comm may hold spaces and parentheses.
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    user, system = int(fields[11]), int(fields[12])
    return (user + system) / os.sysconf("SC_CLK_TCK")


def measure(
    ports: dict[str, int],
    pids: dict[str, int],
    routes: list[Route],
    work: Path,
    args: argparse.Namespace,
) -> Measures:
    measures = Measures()
    files = {}
    for route in routes:
        files[route.name] = work / f"{route.name}.txt"
        files[route.name].write_text("\n".join(route.targets) + "\n")
    print()
    print(
        f"{'round':>5}  {'route':<8} {'server':<9} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'cpu ms':>7} err"
    )
    for number in range(args.rounds):
        # Rotate who goes first, so that none always runs on a warmer machine.
        shift = number % len(SERVERS)
        order = SERVERS[shift:] + SERVERS[:shift]
        for route in routes:
            for name in order:
                cpu_before = cpu_seconds(pids[name])
                result = load(
                    ports[name],
                    files[route.name],
                    args.connections,
                    args.duration,
                    args.warmup,
                    args.cores.rest,
                )
                # The server's CPU over warm-up and measure, per request at the measured
                # rate: what it costs whatever the machine's load, unlike req/s.
                served = result["rps"] * (args.duration + args.warmup)
                result["cpu_ms"] = 1000 * (cpu_seconds(pids[name]) - cpu_before) / served
                measures.add(route.name, name, result)
                print(
                    f"{number + 1:>5}  {route.name:<8} {name:<9} {result['rps']:>8.1f} "
                    f"{result['p50_ms']:>8.1f} {result['p99_ms']:>8.1f} "
                    f"{result['cpu_ms']:>7.3f} {result['errors']}",
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


def measure_feed(
    env: dict[str, str], work: Path, limit: int, runs: int, cpus: tuple[int, ...]
) -> list[FeedRun]:
    port = free_port()
    results = []
    with (
        server("app.main:app", env, port, work / "feed-server.log", cpus) as process,
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


def _ratios(measures: Measures, route: str, server: str) -> tuple[float, float, float]:
    """app / ``server``: of the median throughputs, and the lowest and highest per round."""
    ratio = measures.median(route, "app", "rps") / measures.median(route, server, "rps")
    per_round = [
        app["rps"] / other["rps"]
        for app, other in zip(
            measures.runs[(route, "app")], measures.runs[(route, server)], strict=True
        )
    ]
    return ratio, min(per_round), max(per_round)


def report(
    measures: Measures, routes: list[Route], feed: list[FeedRun], args: argparse.Namespace
) -> bool:
    print()
    print(
        f"{args.offers:,} offers, {args.connections} connections, {args.rounds} rounds of "
        f"{args.duration:g} s per route and server (medians over the rounds)"
    )
    if args.cores.server:
        print(
            f"servers on core {_cpu_list(args.cores.server)}, load generator and PostgreSQL "
            f"on {_cpu_list(args.cores.rest)}"
        )
    print()
    print(
        f"{'route':<8} "
        + "   ".join(f"{name + ' req/s':>14} {'p50':>6} {'p99':>6}" for name in SERVERS)
        + "  errors"
    )
    for route in routes:
        errors = sum(run["errors"] for name in SERVERS for run in measures.runs[(route.name, name)])
        print(
            f"{route.name:<8} "
            + "   ".join(
                f"{measures.median(route.name, name, 'rps'):>14.1f} "
                f"{measures.median(route.name, name, 'p50_ms'):>6.1f} "
                f"{measures.median(route.name, name, 'p99_ms'):>6.1f}"
                for name in SERVERS
            )
            + f"  {errors}"
        )
    print("(latencies in ms; app = app.main:app, baseline = baseline_app.py, the framework's")
    print(" share, bare = bare_app.py, the independent baseline)")
    print()
    print(
        f"{'route':<8} {'app/bare':>8} {'per round':>11} {'target':>7}  verdict   "
        f"{'app/baseline':>12} {'per round':>11}"
    )
    passed = True
    for route in routes:
        target = TARGETS[route.name]
        ratio, low, high = _ratios(measures, route.name, "bare")
        shared, shared_low, shared_high = _ratios(measures, route.name, "baseline")
        errors = sum(run["errors"] for name in SERVERS for run in measures.runs[(route.name, name)])
        ok = ratio >= target and errors == 0
        passed = passed and ok
        verdict = "PASS" if ok else "FAIL"
        print(
            f"{route.name:<8} {ratio:>8.3f} {low:>5.2f}-{high:<5.2f} {'>= ' + str(target):>7}  "
            f"{verdict:<7}   {shared:>12.3f} {shared_low:>5.2f}-{shared_high:<5.2f}"
            + (f" ({errors} errors)" if errors else "")
        )
    print()
    print(
        f"{'route':<8} "
        + " ".join(f"{name + ' cpu ms/req':>20}" for name in SERVERS)
        + f" {'bare/app cpu':>13}"
    )
    for route in routes:
        cpu = {name: measures.median(route.name, name, "cpu_ms") for name in SERVERS}
        print(
            f"{route.name:<8} "
            + " ".join(f"{cpu[name]:>20.3f}" for name in SERVERS)
            + f" {cpu['bare'] / cpu['app']:>13.3f}"
        )
    print(
        "(the server's CPU per request, warm-up included, medians over the rounds; bare/app "
        "is the ratio the throughputs would have if the server's core were the only limit)"
    )
    print(
        "(ratios of req/s, medians over the rounds, and the range of the per-round ratios; the "
        f"targets are the issue's, against bare; app/baseline was held to {FRAMEWORK_TARGET} "
        "before the independent baseline)"
    )
    for route in routes:
        print(f"  {route.name:<8} {route.label}")
    print()
    for run in feed:
        print(
            f"RSS feed limit={run.limit:<7,} {run.items:>7,} items  "
            f"{run.body_bytes / MB:>7.1f} MB body  {run.seconds:>6.1f} s  "
            f"server peak growth (VmHWM) {run.growth_kb * KIB_TO_MB:>5.1f} MB"
        )
    targets = ", ".join(f"{name} >= {target}" for name, target in TARGETS.items())
    print()
    print(f"app / independent baseline ({targets}): {'PASS' if passed else 'FAIL'}")
    return passed


# Main ----------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description="Offer routes against two bare baselines.")
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
        default=UNREACHED_RATE_LIMIT,
        help=f"VOCATION_RATE_LIMIT_DEFAULT for the app (default {UNREACHED_RATE_LIMIT}: on, "
        "never reached); empty turns the per-address limit off",
    )
    parser.add_argument(
        "--server-cpu",
        type=int,
        default=0,
        help="the core of the servers; the load generator and PostgreSQL get the others",
    )
    parser.add_argument("--no-pin", action="store_true", help="pin nothing to any core")
    args = parser.parse_args()
    if args.rounds < 1 or args.connections < 1:
        parser.error("--rounds and --connections must be at least 1")
    args.cores = cores(None if args.no_pin else args.server_cpu)
    if args.cores.rest:
        # This process too: it starts the others, then mostly waits.
        os.sched_setaffinity(0, args.cores.rest)

    today = datetime.now(ZONE).date()
    url = database_url(args.admin_dsn, args.database)
    env = {
        **os.environ,
        "VOCATION_DATABASE_URL": url,
        "VOCATION_TIMEZONE": str(ZONE),
        # Every request comes from 127.0.0.1: the per-address limit (6,000 a minute by
        # default) would answer 429 within seconds. The default keeps it on, never reached.
        "VOCATION_RATE_LIMIT_DEFAULT": args.rate_limit,
    }
    created = False
    work = Path(tempfile.mkdtemp(prefix="vocation-bench-"))
    try:
        existing = asyncio.run(offers_in(url))
        if existing == args.offers:
            print(f"Reusing database {args.database} ({existing:,} offers)")
            run_cli(env, "migrate")  # kept from an older checkout: up to this one's schema
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
        pids = {}
        with contextlib.ExitStack() as stack:
            stack.enter_context(postgres_pinned(args.admin_dsn, args.cores.rest))
            for name in SERVERS:
                process = stack.enter_context(
                    server(
                        TARGETS_OF[name], env, ports[name], work / f"{name}.log", args.cores.server
                    )
                )
                pids[name] = process.pid
            check_same_json(ports, routes)
            print(f"The {len(SERVERS)} servers answer the same JSON on every route.")
            measures = measure(ports, pids, routes, work, args)
        feed = measure_feed(env, work, args.feed_limit, args.feed_runs, args.cores.server)
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
