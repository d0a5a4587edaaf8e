"""`vocation push` end to end: a real server, real HTTP, and a connection dropped mid-way."""

import csv
import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, inspect, select
from sqlalchemy.ext.asyncio import AsyncSession
from typer.testing import CliRunner

from app.cli import cli
from app.core.config import Settings
from app.main import create_app
from app.offers.changes import OfferChange
from app.offers.models import Offer
from app.organisations.models import Organisation
from tests.factories import make_key, make_offer, make_organisation
from tests.live_server import serve


def _read_request(client: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        data += client.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(body) < length:
        body += client.recv(65536)
    return head + b"\r\n\r\n" + body


def _pump(source: socket.socket, target: socket.socket) -> None:
    try:
        while chunk := source.recv(65536):
            target.sendall(chunk)
    except OSError:
        pass
    finally:
        for side in (source, target):
            with suppress(OSError):
                side.shutdown(socket.SHUT_RDWR)


@contextmanager
def dropping_proxy(upstream_url: str, drops: int) -> Iterator[str]:
    """A TCP proxy whose first ``drops`` connections deliver the request and then hang up
    before the answer comes back: the server did the work, the client never hears of it."""
    port = int(upstream_url.rsplit(":", 1)[1])
    listener = socket.create_server(("127.0.0.1", 0))
    dropped = 0

    def handle(client: socket.socket) -> None:
        nonlocal dropped
        upstream = socket.create_connection(("127.0.0.1", port))
        if dropped < drops:
            dropped += 1
            upstream.sendall(_read_request(client))
            upstream.recv(1)  # the server has answered, so it has written
            client.close()
            upstream.close()
            return
        threading.Thread(target=_pump, args=(client, upstream), daemon=True).start()
        _pump(upstream, client)

    def accept() -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=handle, args=(client,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        listener.close()


def write_csv(path: Path, rows: list[dict[str, Any]]) -> Path:
    with path.open("w", newline="", encoding="utf-8-sig") as file:
        writer = csv.DictWriter(file, fieldnames=list(rows[0]), delimiter=";")
        writer.writeheader()
        writer.writerows(rows)
    return path


def offer_row(number: int, **overrides: Any) -> dict[str, Any]:
    values = {
        "reference": f"NSP-{number:03d}",
        "title": f"Chargé·e de préfiguration {number}",
        "description": "Préfigurer un institut de recherche et de formation.",
        "contract_type": "cdd",
        "duration_months": "12",
        "salary_min": "3500",
        "salary_max": "3500",
        "salary_period": "month",
        "remote": "partial",
    }
    values.update(overrides)
    return values


@pytest.fixture
async def organisation(session: AsyncSession) -> Organisation:
    return await make_organisation(
        session, slug="nos-services-publics", name="Nos services publics", kind="collectif"
    )


async def counts(session: AsyncSession, organisation: Organisation) -> tuple[int, int]:
    organisation_id = inspect(organisation).identity[0]
    session.expire_all()
    offers = await session.execute(
        select(func.count()).where(Offer.organisation_id == organisation_id)  # type: ignore[arg-type]
    )
    changes = await session.execute(select(func.count()).select_from(OfferChange))
    return int(offers.scalar_one()), int(changes.scalar_one())


async def test_push_sends_chunks_retries_a_dropped_one_and_reports(
    settings: Settings, session: AsyncSession, organisation: Organisation, tmp_path: Path
) -> None:
    key = await make_key(session, "recruiter", organisation)
    rows = [offer_row(number) for number in range(1, 6)]
    rows[3]["contract_type"] = "cdx"
    path = write_csv(tmp_path / "offres.csv", rows)

    with serve(create_app(settings)) as base_url, dropping_proxy(base_url, drops=1) as proxy:
        result = CliRunner().invoke(
            cli,
            [
                *("push", str(path), "--api", proxy, "--key", key),
                *("--chunk-size", "2", "--mode", "partial", "--retries", "3"),
            ],
        )

    assert result.exit_code == 1, result.output
    assert "sent 2/5 rows" in result.stderr
    assert "sent 5/5 rows" in result.stderr
    assert "network error" in result.stderr
    assert "sending again" in result.stderr
    summary = result.stdout
    assert "created          4" in summary
    assert "failed           1" in summary
    # Row numbers are the file's, not the chunk's.
    assert "row 4 (NSP-004) contract_type:" in summary
    # The dropped chunk was written once, not twice: four offers, four "created".
    assert await counts(session, organisation) == (4, 4)


async def test_push_clean_file_dry_run_and_template(
    settings: Settings, session: AsyncSession, organisation: Organisation, tmp_path: Path
) -> None:
    key = await make_key(session, "recruiter", organisation)
    runner = CliRunner()
    header = runner.invoke(cli, ["push", "--template", "csv"]).stdout.strip().split(",")
    assert header[0] == "reference"
    assert {"title", "contract_type", "deadline", "status"} <= set(header)
    # The contact is four columns in a CSV, not one.
    assert "contact" not in header
    assert {"contact_name", "contact_role", "contact_email", "contact_phone"} <= set(header)
    filled = [dict.fromkeys(header, "") | offer_row(number) for number in (1, 2, 3)]
    path = write_csv(tmp_path / "offres.csv", filled)

    with serve(create_app(settings)) as base_url:
        dry = runner.invoke(cli, ["push", str(path), "--api", base_url, "--key", key, "--dry-run"])
        assert dry.exit_code == 0, dry.output
        assert "dry run: nothing written" in dry.stdout
        assert await counts(session, organisation) == (0, 0)

        done = runner.invoke(cli, ["push", str(path), "--api", base_url, "--key", key])
        bad_key = runner.invoke(cli, ["push", str(path), "--api", base_url, "--key", "voc_x"])

    assert done.exit_code == 0, done.output
    assert "created          3" in done.stdout
    assert await counts(session, organisation) == (3, 3)
    assert bad_key.exit_code == 3
    assert "401" in bad_key.stderr


async def test_push_keeps_unicode_line_separators_inside_an_ndjson_line(
    settings: Settings, session: AsyncSession, organisation: Organisation, tmp_path: Path
) -> None:
    key = await make_key(session, "recruiter", organisation)
    rows = [offer_row(number) for number in (1, 2, 3)]
    rows[0]["description"] = "Première ligne\u2028seconde ligne\u0085et\u2029une autre."
    path = tmp_path / "offres.ndjson"
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows))

    with serve(create_app(settings)) as base_url:
        result = CliRunner().invoke(cli, ["push", str(path), "--api", base_url, "--key", key])

    assert result.exit_code == 0, result.output
    assert "sent 3/3 rows" in result.stderr
    assert await counts(session, organisation) == (3, 3)
    stored = select(Offer.description).where(Offer.reference == "NSP-001")  # type: ignore[arg-type]
    assert await session.scalar(stored) == rows[0]["description"]


async def test_push_refuses_a_reference_repeated_in_two_chunks_and_sends_nothing(
    settings: Settings, session: AsyncSession, organisation: Organisation, tmp_path: Path
) -> None:
    key = await make_key(session, "recruiter", organisation)
    rows = [offer_row(1), offer_row(2), offer_row(1, title="Le même, plus loin")]
    path = write_csv(tmp_path / "offres.csv", rows)

    with serve(create_app(settings)) as base_url:
        split = CliRunner().invoke(
            cli, ["push", str(path), "--api", base_url, "--key", key, "--chunk-size", "2"]
        )
        whole = CliRunner().invoke(
            cli, ["push", str(path), "--api", base_url, "--key", key, "--mode", "partial"]
        )

    assert split.exit_code == 3, split.output
    assert "rows 1 and 3 (NSP-001)" in split.stderr
    assert "Nothing was sent" in split.stderr
    # In one chunk the server sees the repeat itself, and reports it as a failed row.
    assert whole.exit_code == 1, whole.output
    assert "row 3 (NSP-001) reference: appears twice in this upload" in whole.stdout
    assert await counts(session, organisation) == (2, 2)


async def test_push_stops_before_sending_a_file_that_is_not_utf8_or_empty_with_sync(
    settings: Settings, session: AsyncSession, organisation: Organisation, tmp_path: Path
) -> None:
    key = await make_key(session, "recruiter", organisation)
    latin = tmp_path / "excel.csv"
    latin.write_bytes("Référence;Intitulé\nR-1;Juriste\n".encode("cp1252"))
    empty = tmp_path / "vide.csv"
    empty.write_text("reference;title;description;contract_type\n")

    with serve(create_app(settings)) as base_url:
        not_utf8 = CliRunner().invoke(cli, ["push", str(latin), "--api", base_url, "--key", key])
        no_offer = CliRunner().invoke(
            cli, ["push", str(empty), "--api", base_url, "--key", key, "--sync"]
        )

    assert not_utf8.exit_code == 3, not_utf8.output
    assert "is not UTF-8" in not_utf8.stderr
    assert no_offer.exit_code == 3, no_offer.output
    assert "holds no offer" in no_offer.stderr
    assert await counts(session, organisation) == (0, 0)


async def test_push_reads_the_csv_as_strictly_as_the_server_and_names_file_rows(
    settings: Settings, session: AsyncSession, organisation: Organisation, tmp_path: Path
) -> None:
    key = await make_key(session, "recruiter", organisation)
    await make_offer(session, organisation, reference="NSP-002", status="published")
    open_quote = tmp_path / "ouverte.csv"
    open_quote.write_text(
        "reference;title;contract_type;duration_months;description\n"
        'NSP-001;Chargé·e 1;cdd;12;"Préfigurer un institut.\n'
        "NSP-002;Chargé·e 2;cdd;12;Préfigurer un institut.\n"
    )
    huge = tmp_path / "enorme.ndjson"
    rows = [offer_row(1), offer_row(2), offer_row(3, description="x" * (1024 * 1024))]
    huge.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows))

    with serve(create_app(settings)) as base_url:
        quoted = CliRunner().invoke(
            cli, ["push", str(open_quote), "--api", base_url, "--key", key, "--sync"]
        )
        assert await counts(session, organisation) == (1, 0)  # nothing of the CSV was sent
        chunked = CliRunner().invoke(
            cli, ["push", str(huge), "--api", base_url, "--key", key, "--chunk-size", "2"]
        )

    assert quoted.exit_code == 3, quoted.output
    assert "of the file is not CSV: unexpected end of data" in quoted.stderr
    assert chunked.exit_code == 3, chunked.output
    assert "rows 3–3 of the file" in chunked.stderr
    assert "Row 1 is over 1 MiB" in chunked.stderr
    # The NDJSON's first chunk went through: NSP-001 created, NSP-002 updated.
    assert await counts(session, organisation) == (2, 2)


@pytest.mark.parametrize(
    ("api", "said"),
    [
        ("127.0.0.1:8000", "http://"),
        ("api.example.org", "http://"),
        ("http://127.0.0.1:8000/v1", "without /v1"),
        ("https://api.example.org/v1/", "without /v1"),
    ],
)
def test_push_refuses_a_url_without_scheme_or_with_v1_at_once(
    tmp_path: Path, api: str, said: str
) -> None:
    path = write_csv(tmp_path / "offres.csv", [offer_row(1)])
    started = time.monotonic()
    result = CliRunner().invoke(cli, ["push", str(path), "--api", api, "--key", "voc_x"])
    elapsed = time.monotonic() - started

    assert elapsed < 0.5
    assert result.exit_code == 3, result.output
    assert said in result.stderr
    assert "sending again" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@contextmanager
def answering(status: int, body: bytes = b'{"detail": "Nope."}') -> Iterator[tuple[str, list[str]]]:
    """A tiny HTTP server answering every request with ``status``; yields its URL and the
    paths it was asked for."""
    asked: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            asked.append(self.path)
            self.send_response(status)
            self.send_header("Content-Type", "application/problem+json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", asked
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("status", [400, 404, 422])
def test_push_does_not_retry_a_client_error(tmp_path: Path, status: int) -> None:
    path = write_csv(tmp_path / "offres.csv", [offer_row(1)])
    with answering(status) as (url, asked):
        result = CliRunner().invoke(
            cli, ["push", str(path), "--api", url, "--key", "voc_x", "--retries", "3"]
        )
    assert result.exit_code == 3, result.output
    assert len(asked) == 1
    assert f"answered {status}" in result.stderr
    assert "sending again" not in result.stderr


@pytest.mark.parametrize(("retries", "tries"), [(0, "1 try"), (2, "3 tries")])
def test_push_retries_a_server_error_and_counts_its_tries(
    tmp_path: Path, retries: int, tries: str
) -> None:
    path = write_csv(tmp_path / "offres.csv", [offer_row(1)])
    with answering(500) as (url, asked):
        result = CliRunner().invoke(
            cli, ["push", str(path), "--api", url, "--key", "voc_x", "--retries", str(retries)]
        )
    assert result.exit_code == 3, result.output
    assert len(asked) == retries + 1
    assert asked[0].startswith("/v1/offers/bulk?")
    assert f"gave up after {tries}" in result.stderr


def _summary(output: str) -> dict[str, int]:
    """The summary's counts: its lines `  <name>  <number>`."""
    found = (re.fullmatch(r"  ([a-z][a-z ]*?) +([\d,]+)", line) for line in output.splitlines())
    return {match[1]: int(match[2].replace(",", "")) for match in found if match}


async def test_push_atomic_reports_the_valid_rows_held_back_with_their_chunk(
    settings: Settings, session: AsyncSession, organisation: Organisation, tmp_path: Path
) -> None:
    key = await make_key(session, "recruiter", organisation)
    rows = [offer_row(number) for number in range(1, 8)]
    rows[3]["contract_type"] = "cdx"  # row 4: its chunk is rows 3–4
    rows[5]["contract_type"] = "cdx"  # row 6: its chunk is rows 5–6
    path = write_csv(tmp_path / "offres.csv", rows)

    with serve(create_app(settings)) as base_url:
        result = CliRunner().invoke(
            cli, ["push", str(path), "--api", base_url, "--key", key, "--chunk-size", "2"]
        )

    assert result.exit_code == 1, result.output
    assert _summary(result.stdout) == {
        "created": 3,
        "updated": 0,
        "unchanged": 0,
        "closed": 0,
        "failed": 2,
        "held back": 2,
    }
    assert "held back (valid rows of a chunk refused whole, mode atomic): rows 3, 5" in (
        result.stdout
    )
    assert await counts(session, organisation) == (3, 3)


@pytest.mark.parametrize(
    ("bad", "mode", "code"),
    [(False, "atomic", 0), (True, "atomic", 1), (True, "partial", 1)],
    ids=["good", "atomic-bad", "partial-bad"],
)
async def test_push_dry_run_reports_what_the_real_run_does(
    settings: Settings,
    session: AsyncSession,
    organisation: Organisation,
    tmp_path: Path,
    bad: bool,
    mode: str,
    code: int,
) -> None:
    key = await make_key(session, "recruiter", organisation)
    rows = [offer_row(number) for number in range(1, 6)]
    if bad:
        rows[3]["contract_type"] = "cdx"
    path = write_csv(tmp_path / "offres.csv", rows)
    command = ["push", str(path), "--key", key, "--mode", mode, "--chunk-size", "2"]

    with serve(create_app(settings)) as base_url:
        dry = CliRunner().invoke(cli, [*command, "--api", base_url, "--dry-run"])
        assert await counts(session, organisation) == (0, 0)
        real = CliRunner().invoke(cli, [*command, "--api", base_url])

    assert (dry.exit_code, real.exit_code) == (code, code), dry.output + real.output
    assert _summary(dry.stdout) == _summary(real.stdout)
    assert _summary(real.stdout)["created"] == (await counts(session, organisation))[0]
