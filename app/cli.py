"""The `vocation` command: migrate, load demo data, manage API keys, export the OpenAPI spec."""

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar
from zoneinfo import ZoneInfo

import typer
from pydantic import ValidationError
from pydantic_settings import SettingsError
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import col

# Typer ships its own copy of click; its exceptions are only there.
from typer._click import exceptions as click

# Every table, so that foreign keys resolve whichever command runs.
import app.models  # noqa: F401
from app.core import database_check
from app.core.api_keys import AmbiguousPrefix, ApiKey, Role, issue_key, revoke_key
from app.core.config import PROJECT_ROOT, Settings, SettingsFileMissing, get_settings
from app.core.db import Database, create_engine
from app.core.migrations import upgrade
from app.wiring import session_info

T = TypeVar("T")
OPENAPI_PATH = PROJECT_ROOT / "openapi" / "openapi.json"

# Pretty tracebacks print local variables, and those can hold a key's secret.
cli = typer.Typer(
    help="Vocation: the job-board API for public-interest work.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
keys = typer.Typer(help="API keys: create, list, revoke.", no_args_is_help=True)
cli.add_typer(keys, name="keys")


def fail(message: str, code: int = 1) -> NoReturn:
    """An expected failure: one line on stderr, and a non-zero exit."""
    typer.echo(f"vocation: {message}", err=True)
    raise typer.Exit(code)


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"vocation {package_version('vocation')}")
        raise typer.Exit()


@cli.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option(
            "--version", help="Print the version and exit.", callback=_show_version, is_eager=True
        ),
    ] = False,
) -> None:
    """Vocation: the job-board API for public-interest work."""


def _with_database(settings: Settings, work: Callable[[Database], Awaitable[T]]) -> T:
    """Run ``work`` on the migrated database; any other state is one line and exit 1."""

    async def run() -> T:
        url = settings.database_url
        database_check.require_file(url)
        database = Database(create_engine(url))
        database.sessions.configure(info=session_info(settings))
        try:
            await database_check.require_head(database.engine, url)
            return await work(database)
        finally:
            await database.dispose()

    try:
        return asyncio.run(run())
    except database_check.DatabaseNotReady as error:
        fail(str(error))


@cli.command()
def migrate() -> None:
    """Create the database if needed and apply every migration up to head."""
    url = get_settings().database_url
    try:
        asyncio.run(database_check.require_reachable(url))
    except database_check.DatabaseNotReady as error:
        fail(str(error))
    upgrade(url)
    typer.echo("database migrated to head")


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[
        int | None,
        typer.Option(
            min=1,
            envvar="WEB_CONCURRENCY",
            help="Worker processes (or set WEB_CONCURRENCY); one per core by default.",
        ),
    ] = None,
) -> None:
    """Serve the API, with the header and body bounds of the settings. Run `vocation
    migrate` once before, not from every replica."""
    from app.server import default_workers
    from app.server import serve as run_server

    run_server(host, port, workers or default_workers())


@cli.command()
def demo(
    if_empty: Annotated[
        bool, typer.Option("--if-empty", help="Do nothing when organisations exist.")
    ] = False,
) -> None:
    """Load the demo organisations and offers (the seed offers, dated to be open today)."""
    from app.demo.loader import database_is_empty, load_demo

    settings = get_settings()

    async def work(database: Database) -> str:
        async with database.sessions() as session:
            if not await database_is_empty(session):
                if if_empty:
                    return "demo data already loaded: nothing to do"
                raise typer.BadParameter("the database already holds organisations")
            today = datetime.now(ZoneInfo(settings.timezone)).date()
            organisations, offers = await load_demo(session, today)
            return f"loaded {organisations} organisations and {offers} offers"

    typer.echo(_with_database(settings, work))


@cli.command()
def push(
    file: Annotated[
        Path | None,
        typer.Argument(
            help="A .csv, .ndjson (.jsonl) or .json file of offers.", exists=True, dir_okay=False
        ),
    ] = None,
    api: Annotated[
        str, typer.Option(help="The API's base URL.", envvar="VOCATION_API")
    ] = "http://127.0.0.1:8000",
    key: Annotated[
        str | None,
        typer.Option(help="A recruiter key (or set VOCATION_API_KEY).", envvar="VOCATION_API_KEY"),
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Check and report only.")] = False,
    sync: Annotated[
        bool,
        typer.Option(
            "--sync", help="The file is your full list: close your other published offers."
        ),
    ] = False,
    mode: Annotated[
        str,
        typer.Option(
            help="atomic: each chunk (--chunk-size rows) is written whole or not at all; "
            "partial: the valid rows are written."
        ),
    ] = "atomic",
    chunk_size: Annotated[int, typer.Option(min=1, max=10_000, help="Rows per request.")] = 1000,
    retries: Annotated[
        int,
        typer.Option(
            min=0,
            max=20,
            help="Tries again per chunk after a network error or a 5xx (or a 409/429 with "
            "Retry-After); a 4xx stops at once.",
        ),
    ] = 5,
    template: Annotated[
        str | None, typer.Option(help="Print the header of a file to fill (`csv`), and stop.")
    ] = None,
) -> None:
    """Send a file of offers to the API in chunks, each retried safely, and report.

    Exits 1 when rows failed, 3 when a chunk could not be sent."""
    from app import push as pushing

    if template is not None:
        try:
            typer.echo(pushing.template(template))
        except pushing.PushError as error:
            raise typer.BadParameter(str(error)) from None
        return
    if mode not in {"atomic", "partial"}:
        raise typer.BadParameter("--mode is atomic or partial")
    if file is None or key is None:
        raise typer.BadParameter("give a FILE and --key (or VOCATION_API_KEY)")

    def progress(sent: int, total: int, totals: pushing.Totals) -> None:
        typer.echo(f"sent {sent:,}/{total:,} rows ({totals.failed:,} failed so far)", err=True)

    try:
        totals = pushing.push(
            file,
            api=api,
            key=key,
            dry_run=dry_run,
            sync=sync,
            mode=mode,
            chunk_size=chunk_size,
            retries=retries,
            progress=progress,
            say=lambda line: typer.echo(line, err=True),
        )
    except pushing.PushError as error:
        typer.echo(f"push stopped: {error}", err=True)
        raise typer.Exit(3) from None
    title = "dry run: nothing written" if dry_run else "written"
    typer.echo(f"{title}\n")
    for name in ("created", "updated", "unchanged", "closed", "failed", "held back"):
        typer.echo(f"  {name:<10} {getattr(totals, name.replace(' ', '_')):>7,}")
    if totals.held_back_rows:
        typer.echo(
            "\nheld back (valid rows of a chunk refused whole, mode atomic): rows "
            + pushing.row_ranges(totals.held_back_rows)
        )
    if totals.errors:
        typer.echo("\nfailed rows:")
        for failure in totals.errors:
            reference = f" ({failure['reference']})" if failure.get("reference") else ""
            typer.echo(
                f"  row {failure['row']}{reference} {failure['field']}: {failure['message']}"
            )
    if totals.failed:
        raise typer.Exit(1)


@cli.command()
def reindex() -> None:
    """Rebuild the search index from the published offers (after a restore, or when the
    way text is analysed changes)."""
    from app.search.index import rebuild
    from app.search.queue import SearchQueue

    async def work(database: Database) -> int:
        async with database.engine.begin() as connection:
            indexed = await connection.run_sync(rebuild)
            # Everything queued is indexed by the rebuild.
            await connection.execute(SearchQueue.__table__.delete())  # type: ignore[attr-defined]
            return indexed

    typer.echo(f"indexed {_with_database(get_settings(), work)} published offers")


@cli.command()
def outbox(
    retry_failed: Annotated[
        bool,
        typer.Option(
            "--retry-failed",
            help="Make every failed message due again (after fixing the relay or receiver).",
        ),
    ] = False,
) -> None:
    """How many e-mails and webhooks are pending, sent and failed; the last failures."""
    from app.core.types import utcnow
    from app.outbox import report

    async def work(database: Database) -> list[str]:
        async with database.sessions() as session:
            lines = []
            if retry_failed:
                count = await report.retry_failed(session, utcnow())
                lines.append(f"failed messages due again: {count}")
            return lines + await report.summary(session, utcnow())

    for line in _with_database(get_settings(), work):
        typer.echo(line)


@cli.command()
def purge() -> None:
    """Delete applications past their retention date (rows and files), expired tokens, and
    stored documents that a crash left without a row."""
    from app.applications.purge import purge as run_purge
    from app.candidates.lockout import forget_stale as forget_stale_locks
    from app.core.storage import storage_from_settings
    from app.core.types import utcnow
    from app.outbox.retention import purge as purge_outbox
    from app.webhooks.retention import purge as purge_deliveries

    settings = get_settings()

    async def work(database: Database) -> list[str]:
        async with database.sessions() as session:
            report = await run_purge(
                session,
                storage_from_settings(settings),
                utcnow(),
                ZoneInfo(settings.timezone),
                settings.idempotency_hours,
                orphan_grace=timedelta(minutes=settings.orphan_grace_minutes),
            )
            now, days = utcnow(), settings.outbox_retention_days
            outbox = await purge_outbox(session, now, days)
            deliveries = await purge_deliveries(session, now, days)
            locks = await forget_stale_locks(session, now)
            return [*report.lines(), *outbox, *deliveries, f"sign-in counts forgotten: {locks}"]

    for line in _with_database(settings, work):
        typer.echo(line)


@keys.command("create")
def create_key(
    role: Annotated[Role, typer.Option(help="admin, recruiter or partner.")],
    organisation: Annotated[
        str | None, typer.Option(help="Slug of the organisation (recruiter keys only).")
    ] = None,
    label: Annotated[str | None, typer.Option(help="A note to recognise the key.")] = None,
) -> None:
    """Create a key. It is printed once, alone on the last line; only its hash is kept."""
    from app.organisations.models import Organisation

    async def work(database: Database) -> tuple[ApiKey, str]:
        async with database.sessions() as session:
            organisation_id = None
            if organisation is not None:
                found = (
                    await session.execute(
                        select(col(Organisation.id)).where(col(Organisation.slug) == organisation)
                    )
                ).scalar()
                if found is None:
                    raise typer.BadParameter(f"no organisation with slug {organisation!r}")
                organisation_id = found
            try:
                return await issue_key(session, role, organisation_id, label)
            except ValueError as error:
                raise typer.BadParameter(str(error)) from None

    key, secret = _with_database(get_settings(), work)
    typer.echo(f"id: {key.id}", err=True)
    typer.echo(f"role: {key.role}", err=True)
    typer.echo("store this key now: it will not be shown again", err=True)
    typer.echo(secret)


@keys.command("revoke")
def revoke(
    key: Annotated[
        str,
        typer.Argument(
            metavar="KEY", help="The key itself, its id, or its prefix as `keys list` shows it."
        ),
    ],
) -> None:
    """Revoke a key: it is refused (401) from the next request on."""

    async def work(database: Database) -> ApiKey | None:
        async with database.sessions() as session:
            return await revoke_key(session, key)

    try:
        revoked = _with_database(get_settings(), work)
    except AmbiguousPrefix as error:
        fail(str(error))
    if revoked is None:
        fail(f"no key {key!r}: give the key, its id, or its prefix as `vocation keys list` shows")
    typer.echo(f"revoked {revoked.id} ({revoked.display_prefix}…)")


@keys.command("list")
def list_keys() -> None:
    """List keys (id, prefix, role, organisation, label, state), never their secrets."""
    from app.organisations.models import Organisation

    async def work(database: Database) -> list[Any]:
        async with database.reader.connect() as connection:
            statement = (
                select(
                    col(ApiKey.id),
                    col(ApiKey.display_prefix),
                    col(ApiKey.role),
                    col(Organisation.slug),
                    col(ApiKey.label),
                    col(ApiKey.revoked_at),
                )
                .outerjoin(Organisation, col(Organisation.id) == col(ApiKey.organisation_id))
                .order_by(col(ApiKey.created_at))
            )
            return list((await connection.execute(statement)).all())

    table = [("ID", "PREFIX", "ROLE", "ORGANISATION", "LABEL", "STATE")]
    for row in _with_database(get_settings(), work):
        state = f"revoked {row.revoked_at:%Y-%m-%d}" if row.revoked_at else "active"
        table.append(
            (
                str(row.id),
                f"{row.display_prefix}…",
                row.role,
                row.slug or "-",
                row.label or "-",
                state,
            )
        )
    widths = [max(len(line[column]) for line in table) for column in range(len(table[0]) - 1)]
    for line in table:
        cells = [cell.ljust(width) for cell, width in zip(line, widths, strict=False)]
        typer.echo("  ".join([*cells, line[-1]]))


def openapi_document() -> str:
    from app.main import create_app

    # The spec depends on no database: an in-memory one leaves no file behind.
    settings = get_settings().model_copy(update={"database_url": "sqlite://"})
    schema = create_app(settings).openapi()
    return json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=False) + "\n"


@cli.command()
def openapi(
    output: Annotated[Path, typer.Option(help="Where to write the spec.")] = OPENAPI_PATH,
    check: Annotated[
        bool, typer.Option("--check", help="Fail if the file differs from the app's spec.")
    ] = False,
) -> None:
    """Write the OpenAPI spec the app serves to openapi/openapi.json."""
    document = openapi_document()
    if check:
        if not output.exists() or output.read_text(encoding="utf-8") != document:
            typer.echo(f"{output} is out of date: run `vocation openapi`", err=True)
            raise typer.Exit(1)
        typer.echo(f"{output} is up to date")
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(document, encoding="utf-8")
    typer.echo(f"wrote {output}")


def _one_line(error: click.ClickException) -> str:
    message = " ".join(error.format_message().split())
    context = getattr(error, "ctx", None)
    if isinstance(error, click.UsageError) and context is not None:
        return f"{context.command_path}: {message} (see `{context.command_path} --help`)"
    return f"vocation: {message}"


def _run() -> int:
    try:
        code = cli(standalone_mode=False)
    except click.NoArgsIsHelpError as error:
        error.show()
        return 2
    except click.ClickException as error:
        typer.echo(_one_line(error), err=True)
        return error.exit_code
    except typer.Abort:
        typer.echo("vocation: aborted", err=True)
        return 1
    return code if isinstance(code, int) else 0


def main() -> None:
    """The installed command: every expected failure is one line on stderr."""
    try:
        code = _run()
    except SettingsFileMissing as error:
        typer.echo(f"vocation: {error}", err=True)
        code = 1
    except ValidationError as error:
        first = error.errors()[0]
        name = "_".join(str(part) for part in first["loc"]).upper()
        where = f"VOCATION_{name}: " if name else ""
        message = str(first["msg"]).removeprefix("Value error, ")
        typer.echo(f"vocation: {where}{message}", err=True)
        code = 1
    except SettingsError as error:
        # A setting pydantic-settings could not even decode (malformed JSON, for one).
        typer.echo(f"vocation: {error}", err=True)
        code = 1
    except SQLAlchemyError as error:
        # A failure while a command runs (a lock held too long, a connection lost).
        typer.echo(f"vocation: database error: {database_check.reason(error)}", err=True)
        code = 1
    sys.exit(code)


if __name__ == "__main__":
    main()
