"""Folders and files that only the service's own user may read: uploaded documents and
the SQLite database hold candidates' personal data."""

import contextlib
import os
from pathlib import Path


def make_private_folders(folder: Path) -> None:
    """Create ``folder`` and each of its missing parents 0700 (``Path.mkdir(parents=True)``
    gives the parents the umask's mode, usually 0755). Folders that exist are left as
    they are: an operator may share /srv or a home folder on purpose."""
    missing = []
    current = Path(folder)
    while not current.exists() and current != current.parent:
        missing.append(current)
        current = current.parent
    for path in reversed(missing):
        # Another process may make it between the look and the mkdir.
        with contextlib.suppress(FileExistsError):
            path.mkdir(mode=0o700)


def create_private_file(path: Path) -> None:
    """Create ``path`` empty and 0600 unless it exists, without following a symlink."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        descriptor = os.open(path, flags, 0o600)
    except FileExistsError:
        return
    os.close(descriptor)
