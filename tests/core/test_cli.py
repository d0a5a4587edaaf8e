"""The `vocation` command, run as a user runs it."""

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine
from typer.testing import CliRunner

from app.cli import cli
from app.core.api_keys import ApiKey, hash_key
from app.core.config import get_settings
from app.core.db import async_url
from tests.databases import PostgresDatabases, SqliteDatabases


@pytest.fixture
def cli_database(
    databases: SqliteDatabases | PostgresDatabases, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    url = databases.fresh()
    asyncio.run(databases.clean(url))
    monkeypatch.setenv("VOCATION_DATABASE_URL", url)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


def _keys(url: str) -> list[ApiKey]:
    async def read() -> list[ApiKey]:
        engine = create_async_engine(async_url(url))
        try:
            async with engine.connect() as connection:
                return list((await connection.execute(select(ApiKey))).all())  # type: ignore[arg-type]
        finally:
            await engine.dispose()

    return asyncio.run(read())


def test_keys_create_prints_the_key_alone_on_the_last_line(cli_database: str) -> None:
    runner = CliRunner()
    assert runner.invoke(cli, ["demo"]).exit_code == 0
    result = runner.invoke(
        cli, ["keys", "create", "--role", "recruiter", "--organisation", "le-labo-de-l-ess"]
    )
    assert result.exit_code == 0, result.output
    secret = result.stdout.strip().splitlines()[-1]
    assert secret.startswith("voc_")
    assert " " not in secret
    rows = _keys(cli_database)
    assert len(rows) == 1
    assert rows[0].key_hash == hash_key(secret)
    assert secret not in {str(value) for value in rows[0]}

    listed = runner.invoke(cli, ["keys", "list"])
    assert secret not in listed.stdout
    assert rows[0].display_prefix in listed.stdout

    revoked = runner.invoke(cli, ["keys", "revoke", str(rows[0].id)])
    assert revoked.exit_code == 0
    assert _keys(cli_database)[0].revoked_at is not None


def test_keys_create_refuses_bad_combinations(cli_database: str) -> None:
    runner = CliRunner()
    assert runner.invoke(cli, ["keys", "create", "--role", "recruiter"]).exit_code != 0
    unknown = runner.invoke(
        cli, ["keys", "create", "--role", "recruiter", "--organisation", "nobody"]
    )
    assert unknown.exit_code != 0
    assert runner.invoke(cli, ["keys", "create", "--role", "root"]).exit_code != 0
    assert _keys(cli_database) == []


def test_demo_if_empty_runs_once(cli_database: str) -> None:
    runner = CliRunner()
    first = runner.invoke(cli, ["demo", "--if-empty"])
    second = runner.invoke(cli, ["demo", "--if-empty"])
    assert first.exit_code == second.exit_code == 0
    assert "loaded 8 organisations and 40 offers" in first.stdout
    assert "nothing to do" in second.stdout


def test_the_installed_command_creates_and_revokes_keys(cli_database: str) -> None:
    """As a user runs it: a fresh process, which imports only what the command imports."""
    command = [sys.executable, "-m", "app.cli"]
    env = {**os.environ, "VOCATION_DATABASE_URL": cli_database}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # noqa: S603 - our own command, fixed arguments
            [*command, *args], env=env, capture_output=True, text=True, timeout=60, check=False
        )

    assert run("demo").returncode == 0
    created = run("keys", "create", "--role", "recruiter", "--organisation", "etat-lin")
    assert created.returncode == 0, created.stderr
    secret = created.stdout.strip().splitlines()[-1]
    revoked = run("keys", "revoke", secret[:12])
    assert revoked.returncode == 0, revoked.stderr
    assert _keys(cli_database)[0].revoked_at is not None


def test_purge_prints_what_it_did(cli_database: str, tmp_path: Path) -> None:
    runner = CliRunner()
    env = {"VOCATION_UPLOAD_DIR": str(tmp_path / "uploads")}
    first = runner.invoke(cli, ["purge"], env=env)
    assert first.exit_code == 0, first.output
    assert "applications deleted: 0" in first.stdout
    assert "documents deleted: 0" in first.stdout
    assert "webhook delivery attempts deleted: 0" in first.stdout


def _scalar(url: str, statement: str) -> int:
    async def read() -> int:
        engine = create_async_engine(async_url(url))
        try:
            async with engine.begin() as connection:
                result = await connection.exec_driver_sql(statement)
                return int(result.scalar() or 0) if result.returns_rows else 0
        finally:
            await engine.dispose()

    return asyncio.run(read())


def test_reindex_rebuilds_the_search_index(cli_database: str) -> None:
    runner = CliRunner()
    assert runner.invoke(cli, ["demo"]).exit_code == 0
    published = _scalar(cli_database, "SELECT count(*) FROM offer WHERE status = 'published'")
    assert _scalar(cli_database, "SELECT count(*) FROM offer_search") == published > 0
    _scalar(cli_database, "DELETE FROM offer_search")

    result = runner.invoke(cli, ["reindex"])

    assert result.exit_code == 0, result.output
    assert f"indexed {published} published offers" in result.stdout
    assert _scalar(cli_database, "SELECT count(*) FROM offer_search") == published


def test_boolean_flags_show_no_value_in_help() -> None:
    runner = CliRunner()
    for command, flag in (("push", "--dry-run"), ("demo", "--if-empty"), ("openapi", "--check")):
        result = runner.invoke(cli, [command, "--help"], env={"COLUMNS": "200"})
        assert result.exit_code == 0, result.output
        line = next(line for line in result.stdout.splitlines() if flag in line)
        assert "<bool>" not in line
        assert "BOOLEAN" not in line.upper()


def test_version_is_the_package_s() -> None:
    from importlib.metadata import version

    result = subprocess.run(  # noqa: S603 - our own command, fixed arguments
        [str(Path(sys.executable).with_name("vocation")), "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"vocation {version('vocation')}"


def _create_key(runner: CliRunner, *args: str) -> str:
    created = runner.invoke(cli, ["keys", "create", *args])
    assert created.exit_code == 0, created.output
    return created.stdout.strip().splitlines()[-1]


def test_keys_list_has_a_header_and_names_the_organisation_and_label(cli_database: str) -> None:
    runner = CliRunner()
    assert runner.invoke(cli, ["demo"]).exit_code == 0
    _create_key(
        runner,
        *("--role", "recruiter", "--organisation", "etat-lin", "--label", "export RH nuit"),
    )
    _create_key(runner, "--role", "partner")

    listed = runner.invoke(cli, ["keys", "list"], env={"COLUMNS": "200"})

    assert listed.exit_code == 0, listed.output
    header, recruiter, partner = listed.stdout.splitlines()
    assert header.split() == ["ID", "PREFIX", "ROLE", "ORGANISATION", "LABEL", "STATE"]
    assert "etat-lin" in recruiter
    assert "export RH nuit" in recruiter
    assert recruiter.rstrip().endswith("active")
    assert "partner" in partner
    # The columns line up under their header.
    assert recruiter.index("etat-lin") == header.index("ORGANISATION")


@pytest.mark.parametrize("form", ["key", "id", "prefix as listed", "prefix without …"])
def test_keys_revoke_takes_the_key_its_id_or_its_prefix_as_listed(
    cli_database: str, form: str
) -> None:
    runner = CliRunner()
    assert runner.invoke(cli, ["demo"]).exit_code == 0
    secret = _create_key(runner, "--role", "recruiter", "--organisation", "etat-lin")
    other = _create_key(runner, "--role", "partner")
    row = next(key for key in _keys(cli_database) if key.key_hash == hash_key(secret))
    listed = runner.invoke(cli, ["keys", "list"]).stdout
    shown_prefix = next(word for word in listed.split() if word.startswith(row.display_prefix))
    given = {
        "key": secret,
        "id": str(row.id),
        "prefix as listed": shown_prefix,
        "prefix without …": row.display_prefix,
    }[form]

    revoked = runner.invoke(cli, ["keys", "revoke", given])

    assert revoked.exit_code == 0, revoked.output
    states = {key.key_hash: key.revoked_at for key in _keys(cli_database)}
    assert states[hash_key(secret)] is not None
    assert states[hash_key(other)] is None
    unknown = runner.invoke(cli, ["keys", "revoke", "voc_nothing…"])
    assert unknown.exit_code == 1
