"""A small HTTP/1.1 load generator: N keep-alive connections, each sending GETs one after
another for a fixed time, timing every request.

Run it in its own process, so that it does not share the server's interpreter (or GIL):

    .venv/bin/python bench/loadgen.py --port 8000 --paths paths.txt \
        [--connections 12] [--duration 10] [--warmup 2]

``paths.txt`` holds one request target a line (``/v1/offers?q=...``); connections take
them in turn, each from its own starting point, so a list of offer ids spreads requests
over many offers. Prints one JSON object: requests and errors counted in the measured
window (after the warm-up), requests per second, latency percentiles in milliseconds and
bytes received. A request counts when its whole body has arrived with status 200; any
other status is an error (and the first few are printed on stderr).
"""

import argparse
import asyncio
import contextlib
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

try:
    import uvloop
except ImportError:  # pragma: no cover - uvicorn[standard] brings it
    uvloop = None  # type: ignore[assignment]

MAX_ERRORS_SHOWN = 3


@dataclass
class Tally:
    measure_from: float
    measure_to: float
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    body_bytes: int = 0
    shown: int = 0


async def _read_body(reader: asyncio.StreamReader, head: bytes) -> int:
    """Read the body the head announces (Content-Length or chunked); return its size."""
    length = -1
    chunked = False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if chunked:
        size = 0
        while True:
            chunk_size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if chunk_size == 0:
                # Trailers, if any, end with an empty line.
                while await reader.readuntil(b"\r\n") != b"\r\n":
                    pass
                return size
            await reader.readexactly(chunk_size + 2)
            size += chunk_size
    if length < 0:
        raise RuntimeError("response without Content-Length nor chunked encoding")
    await reader.readexactly(length)
    return length


async def _connection(
    host: str, port: int, targets: list[bytes], start: int, tally: Tally, stop_at: float
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    requests = [
        b"GET " + target + b" HTTP/1.1\r\nHost: " + host.encode() + b"\r\nAccept: */*\r\n\r\n"
        for target in targets
    ]
    position = start
    clock = time.perf_counter
    try:
        while True:
            began = clock()
            if began >= stop_at:
                return
            request = requests[position % len(requests)]
            position += 1
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            size = await _read_body(reader, head)
            ended = clock()
            if not tally.measure_from <= began < tally.measure_to:
                continue
            status = head[9:12]
            if status != b"200":
                tally.errors += 1
                if tally.shown < MAX_ERRORS_SHOWN:
                    tally.shown += 1
                    print(f"status {status.decode()} for {request[:120]!r}", file=sys.stderr)
                continue
            tally.latencies.append(ended - began)
            tally.body_bytes += size
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


def percentile(sorted_values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return float("nan")
    rank = max(1, round(fraction * len(sorted_values) + 0.5))
    return sorted_values[min(rank, len(sorted_values)) - 1]


async def run(
    host: str, port: int, targets: list[bytes], connections: int, duration: float, warmup: float
) -> dict[str, Any]:
    now = time.perf_counter()
    tally = Tally(measure_from=now + warmup, measure_to=now + warmup + duration)
    # Requests started in the window may finish a little after it; none start after.
    stop_at = tally.measure_to
    spread = max(1, len(targets) // connections)
    await asyncio.gather(
        *(
            _connection(host, port, targets, number * spread, tally, stop_at)
            for number in range(connections)
        )
    )
    latencies = sorted(tally.latencies)
    return {
        "connections": connections,
        "duration_s": duration,
        "requests": len(latencies),
        "errors": tally.errors,
        "rps": len(latencies) / duration,
        "p50_ms": percentile(latencies, 0.50) * 1000,
        "p90_ms": percentile(latencies, 0.90) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
        "max_ms": (latencies[-1] if latencies else float("nan")) * 1000,
        "mean_body_bytes": tally.body_bytes / len(latencies) if latencies else 0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description="Keep-alive HTTP/1.1 GET load, timed.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--paths", type=Path, required=True, help="one request target a line")
    parser.add_argument("--connections", type=int, default=12)
    parser.add_argument("--duration", type=float, default=10.0, help="measured seconds")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds first")
    args = parser.parse_args()
    targets = [line.encode() for line in args.paths.read_text().splitlines() if line.strip()]
    if not targets:
        parser.error(f"{args.paths} holds no path")
    # uvloop (installed with uvicorn[standard]): a faster client leaves the server more CPU.
    runner = uvloop.run if uvloop is not None else asyncio.run
    result = runner(
        run(args.host, args.port, targets, args.connections, args.duration, args.warmup)
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
