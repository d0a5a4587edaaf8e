"""Generating the Python client as client developers do: openapi-python-client with its
default settings, from a spec file or a served spec."""

import os
import subprocess
import sys
from pathlib import Path

BIN = Path(sys.executable).parent


def generate(source: list[str | Path], output: Path) -> None:
    """``source``: the generator's `--path FILE` or `--url URL` arguments."""
    # The venv first on PATH: the generator formats its output with ruff when it finds it.
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    done = subprocess.run(  # noqa: S603 (our own tool, on our own spec)
        [BIN / "openapi-python-client", "generate", *source, "--output-path", output],
        capture_output=True,
        text=True,
        env=env,
        cwd=output.parent,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
