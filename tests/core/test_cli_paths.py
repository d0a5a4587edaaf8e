"""The installed `vocation` command run from outside the checkout, as cron runs it: the
data folder comes from VOCATION_HOME or the settings file, never from the working
directory, and an expected failure is one line on stderr, never a traceback."""

import asyncio
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import make_url

from app.core.config import PROJECT_ROOT, Settings
from app.core.migrations import upgrade
from tests.databases import (
    PostgresDatabases,
    SqliteDatabases,
    engine_independent,
    engine_name,
)

VOCATION = Path(sys.executable).with_name("vocation")


def run(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    # The test run's own VOCATION_ settings stay out: only what each test gives counts.
    clean = {name: value for name, value in os.environ.items() if not name.startswith("VOCATION_")}
    return subprocess.run(  # noqa: S603 - our own command, fixed arguments
        [str(VOCATION), *args],
        cwd=cwd,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def one_line_failure(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.fixture
def elsewhere(tmp_path: Path) -> Path:
    """A working directory outside the checkout, as cron's."""
    folder = tmp_path / "cwd"
    folder.mkdir()
    return folder


def test_the_default_data_folder_is_the_checkout_s_var_whatever_the_directory(
    monkeypatch: pytest.MonkeyPatch, elsewhere: Path
) -> None:
    for name in ("VOCATION_HOME", "VOCATION_DATABASE_URL", "VOCATION_UPLOAD_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(elsewhere)
    settings = Settings(_env_file=None)
    assert settings.home == PROJECT_ROOT / "var"
    assert make_url(settings.database_url).database == str(PROJECT_ROOT / "var" / "vocation.db")
    assert settings.upload_dir == PROJECT_ROOT / "var" / "uploads"


def test_relative_paths_resolve_against_vocation_home(tmp_path: Path) -> None:
    settings = Settings(
        _env_file=None,
        home=tmp_path,
        database_url="sqlite:///data/v.db",
        upload_dir=Path("files"),
    )
    assert make_url(settings.database_url).database == str(tmp_path / "data" / "v.db")
    assert settings.upload_dir == tmp_path / "files"
    absolute = Settings(_env_file=None, home=tmp_path, upload_dir=Path("/srv/files"))
    assert absolute.upload_dir == Path("/srv/files")


@pytest.mark.skipif(engine_name() != "sqlite", reason="the data folder holds SQLite's file")
def test_commands_from_another_folder_use_vocation_home_and_create_nothing_there(
    tmp_path: Path, elsewhere: Path
) -> None:
    home = tmp_path / "home"
    refused = run(elsewhere, "keys", "list", VOCATION_HOME=str(home))
    line = one_line_failure(refused)
    assert "vocation migrate" in line
    assert str(home / "vocation.db") in line
    assert not home.exists()  # nothing created before `migrate`

    assert run(elsewhere, "migrate", VOCATION_HOME=str(home)).returncode == 0
    assert (home / "vocation.db").is_file()
    assert run(elsewhere, "demo", VOCATION_HOME=str(home)).returncode == 0
    created = run(
        elsewhere,
        *("keys", "create", "--role", "recruiter", "--organisation", "etat-lin"),
        VOCATION_HOME=str(home),
    )
    assert created.returncode == 0, created.stderr
    listed = run(elsewhere, "keys", "list", VOCATION_HOME=str(home))
    assert listed.returncode == 0, listed.stderr
    assert "etat-lin" in listed.stdout
    purged = run(elsewhere, "purge", VOCATION_HOME=str(home))
    assert purged.returncode == 0, purged.stderr
    assert list(elsewhere.iterdir()) == []


@pytest.mark.skipif(engine_name() != "sqlite", reason="the data folder holds SQLite's file")
def test_the_settings_file_is_found_whatever_the_directory(tmp_path: Path, elsewhere: Path) -> None:
    home = tmp_path / "data"
    env_file = tmp_path / "vocation.env"
    env_file.write_text(f"VOCATION_HOME={home}\n")
    assert run(elsewhere, "migrate", VOCATION_ENV_FILE=str(env_file)).returncode == 0
    assert (home / "vocation.db").is_file()
    assert run(elsewhere, "keys", "list", VOCATION_ENV_FILE=str(env_file)).returncode == 0
    assert list(elsewhere.iterdir()) == []

    missing = run(elsewhere, "keys", "list", VOCATION_ENV_FILE=str(tmp_path / "nope.env"))
    assert "nope.env" in one_line_failure(missing)


def test_a_database_url_from_the_environment_is_used_from_any_folder(
    databases: SqliteDatabases | PostgresDatabases, elsewhere: Path
) -> None:
    url = databases.fresh()
    asyncio.run(databases.clean(url))
    assert run(elsewhere, "demo", VOCATION_DATABASE_URL=url).returncode == 0
    listed = run(elsewhere, "keys", "list", VOCATION_DATABASE_URL=url)
    assert listed.returncode == 0, listed.stderr
    assert list(elsewhere.iterdir()) == []


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("command", [["keys", "list"], ["migrate"]])
@engine_independent
def test_an_unreachable_postgresql_is_one_line(command: list[str], elsewhere: Path) -> None:
    url = f"postgresql://vocation:secret@127.0.0.1:{_closed_port()}/vocation"
    started = time.monotonic()
    line = one_line_failure(run(elsewhere, *command, VOCATION_DATABASE_URL=url))
    assert time.monotonic() - started < 30
    assert "cannot reach the database" in line
    assert "127.0.0.1" in line
    assert "secret" not in line


@engine_independent
def test_a_sqlite_file_in_a_missing_folder_is_one_line_and_creates_nothing(
    tmp_path: Path, elsewhere: Path
) -> None:
    path = tmp_path / "missing" / "folder" / "vocation.db"
    line = one_line_failure(
        run(elsewhere, "keys", "list", VOCATION_DATABASE_URL=f"sqlite:///{path}")
    )
    assert "vocation migrate" in line
    assert not (tmp_path / "missing").exists()


@engine_independent
def test_migrate_into_a_folder_that_cannot_be_made_is_one_line(
    tmp_path: Path, elsewhere: Path
) -> None:
    a_file = tmp_path / "a-file"
    a_file.write_text("not a folder")
    line = one_line_failure(
        run(elsewhere, "migrate", VOCATION_DATABASE_URL=f"sqlite:///{a_file}/vocation.db")
    )
    assert str(a_file) in line


def test_a_database_without_migrations_or_behind_says_to_migrate(
    databases: SqliteDatabases | PostgresDatabases, tmp_path: Path, elsewhere: Path
) -> None:
    blank = databases.blank()
    if engine_name() == "sqlite":
        Path(make_url(blank).database or "").touch()  # an empty SQLite file
    line = one_line_failure(run(elsewhere, "keys", "list", VOCATION_DATABASE_URL=blank))
    assert "not migrated" in line
    assert "vocation migrate" in line

    upgrade(blank, "0008")
    line = one_line_failure(run(elsewhere, "purge", VOCATION_DATABASE_URL=blank))
    assert "vocation migrate" in line
    migrated = run(elsewhere, "migrate", VOCATION_DATABASE_URL=blank)
    assert migrated.returncode == 0, migrated.stderr
    assert run(elsewhere, "keys", "list", VOCATION_DATABASE_URL=blank).returncode == 0


@engine_independent
def test_missing_files_and_bad_arguments_are_one_line(tmp_path: Path, elsewhere: Path) -> None:
    env = {"VOCATION_HOME": str(tmp_path / "home")}
    missing = one_line_failure(run(elsewhere, "push", "absent.csv", "--key", "voc_x", **env))
    assert "absent.csv" in missing
    offers = elsewhere / "offres.csv"
    offers.write_text("reference;title\nR-1;Juriste\n")
    bad_mode = one_line_failure(run(elsewhere, "push", "offres.csv", "--mode", "all", **env))
    assert "--mode" in bad_mode
    unknown = one_line_failure(run(elsewhere, "keys", "revoke", **env))
    assert "KEY" in unknown
    assert not (tmp_path / "home").exists()


@engine_independent
def test_list_settings_read_comma_separated_and_a_bad_one_is_one_line(
    tmp_path: Path, elsewhere: Path
) -> None:
    # As operators write them, like VOCATION_TRUSTED_PROXIES: a traceback before.
    home = str(tmp_path / "home")
    assert run(elsewhere, "migrate", VOCATION_HOME=home).returncode == 0
    listed = run(
        elsewhere,
        "keys",
        "list",
        VOCATION_HOME=home,
        VOCATION_ALLOWED_HOSTS="emplois.example.org,localhost",
        VOCATION_CORS_WRITE_ORIGINS="https://rh.example.org",
    )
    assert listed.returncode == 0, listed.stderr
    assert Settings(
        _env_file=None, allowed_hosts="emplois.example.org, localhost"
    ).allowed_hosts == ["emplois.example.org", "localhost"]

    line = one_line_failure(
        run(elsewhere, "keys", "list", VOCATION_HOME=home, VOCATION_ALLOWED_HOSTS='["a.org"')
    )
    assert "VOCATION_ALLOWED_HOSTS" in line
