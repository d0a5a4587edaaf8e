"""Alembic, driven from Python: the CLI migrates with it and /readyz compares with head."""

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

# The Docker image copies alembic.ini and migrations/ to its working directory.
from app.core.config import PROJECT_ROOT

__all__ = ["PROJECT_ROOT", "alembic_config", "downgrade", "head_revision", "upgrade"]


def alembic_config(database_url: str | None = None) -> Config:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    if database_url:
        config.attributes["database_url"] = database_url
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(database_url), revision)
