"""In-process micro-benchmark of the hot reads: the app's CPU time per request, without an
HTTP server or a client, to see where a change moves it (the HTTP benchmark,
``offers_http.py``, gives the ratios to report).

It builds the app with ``create_app`` (rate limiter on at 10,000,000 a minute, every
middleware), calls it as an ASGI server would, one request at a time, and prints for each
route the requests per second and the CPU time of this process per request (PostgreSQL's
work is in its own processes and not counted). ``--profile`` prints a cProfile of the
measured requests, sorted by own time.

    .venv/bin/python bench/reads_inprocess.py --database-url \\
        postgresql://postgres@127.0.0.1:5432/vocation_bench_1234 [--requests 3000]

The database is one that ``offers_http.py --keep-db`` kept (or any with published offers).
"""

import argparse
import asyncio
import cProfile
import pstats
import time
from collections.abc import Callable
from typing import Any

import asyncpg

from app.core.config import Settings
from app.main import create_app

ROUTES: dict[str, Callable[[int, list[Any]], tuple[str, bytes]]] = {
    "list": lambda _i, _ids: ("/v1/offers", b"contract_type=cdd&departement=75"),
    "search": lambda _i, _ids: ("/v1/offers", "q=médiation culturelle".encode()),
    "detail": lambda i, ids: (f"/v1/offers/{ids[i % len(ids)]}", b""),
}


async def call(app: Any, path: str, query: bytes) -> int:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "root_path": "",
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
        "state": {},
    }
    status = 0

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--routes", default="list,search,detail")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    settings = Settings(
        database_url=args.database_url,
        rate_limit_default="10000000/minute",
        bulk_check_processes=0,
        search_poll_seconds=0,
    )
    app = create_app(settings)
    connection = await asyncpg.connect(args.database_url)
    ids = [
        row[0]
        for row in await connection.fetch(
            "SELECT id FROM offer WHERE status = 'published' AND "
            "(deadline IS NULL OR deadline >= current_date) ORDER BY id LIMIT 2000"
        )
    ]
    await connection.close()
    async with app.router.lifespan_context(app):
        for name in args.routes.split(","):
            request = ROUTES[name]
            for i in range(200):
                status = await call(app, *request(i, ids))
                assert status == 200, (name, status)
            profiler = cProfile.Profile() if args.profile else None
            start, cpu = time.perf_counter(), time.process_time()
            if profiler is not None:
                profiler.enable()
            for i in range(args.requests):
                await call(app, *request(i, ids))
            if profiler is not None:
                profiler.disable()
            elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
            print(
                f"{name:8} {args.requests / elapsed:8.1f} req/s   "
                f"{cpu / args.requests * 1e3:.3f} ms CPU per request"
            )
            if profiler is not None:
                pstats.Stats(profiler).sort_stats("tottime").print_stats(30)


if __name__ == "__main__":
    asyncio.run(main())
