"""Issue 14: types generated from the committed spec let a mobile developer apply with a
`Blob` and send `If-None-Match`, and `tsc --strict` accepts the program. Node packages come
from package-lock.json (`npm ci`)."""

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "openapi" / "openapi.json"
TYPESCRIPT = ROOT / "clients" / "typescript"


def _node(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 (pinned tools from the lockfile, on our own files)
        [*map(str, args)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
        timeout=300,
    )


def test_the_generated_types_compile_a_program_that_applies_and_revalidates(
    tmp_path: Path,
) -> None:
    node, npx = shutil.which("node"), shutil.which("npx")
    if node is None or npx is None or not (ROOT / "node_modules" / ".bin" / "tsc").exists():
        pytest.skip("TypeScript check skipped: run `npm ci` (Node.js 20.19 or newer)")
    # A copy, so that a stale vocation.d.ts from `make clients` is never the one checked.
    for name in ("check.ts", "tsconfig.json"):
        shutil.copy(TYPESCRIPT / name, tmp_path / name)
    # The packages resolve from the project's node_modules, as they do next to check.ts.
    (tmp_path / "node_modules").symlink_to(ROOT / "node_modules")
    generated = _node(node, TYPESCRIPT / "generate.mjs", SPEC, tmp_path / "vocation.d.ts")
    assert generated.returncode == 0, generated.stdout + generated.stderr
    compiled = _node(
        npx, "--no-install", "tsc", "--noEmit", "--strict", "-p", tmp_path / "tsconfig.json"
    )
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr
