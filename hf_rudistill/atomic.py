"""Atomic writes: outputs appear complete or not at all.

Everything is written to a temporary path beside the destination (same file system) and moved into place
only when writing succeeded; on error the temporary path is removed and an existing destination is kept.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def check_destination(destination: str | os.PathLike, *, overwrite: bool = False) -> Path:
    """Raise ``FileExistsError`` when ``destination`` exists, is not empty and ``overwrite`` is false.

    Commands call it before any work, so a run is not wasted on an output that cannot be written.
    """
    destination = Path(destination)
    if destination.exists() and (not destination.is_dir() or any(destination.iterdir())) and not overwrite:
        raise FileExistsError(f"{destination} already exists and is not empty; choose another path or overwrite it.")
    return destination


@contextlib.contextmanager
def atomic_directory(destination: str | os.PathLike, *, overwrite: bool = False) -> Iterator[Path]:
    """Yield an empty staging folder; on success it replaces ``destination`` (see :func:`check_destination`)."""
    destination = check_destination(destination, overwrite=overwrite)
    destination.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{destination.name}.", suffix=".tmp", dir=destination.parent))
    try:
        staging.chmod(0o777 & ~_umask())  # mkdtemp makes it private; the result gets the usual permissions
        yield staging
        if destination.exists():
            backup = destination.with_name(f".{destination.name}.old")
            shutil.rmtree(backup, ignore_errors=True)
            destination.rename(backup)
            staging.rename(destination)
            shutil.rmtree(backup)
        else:
            staging.rename(destination)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` through a temporary file in the same folder."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(temporary, 0o666 & ~_umask())  # mkstemp makes it private
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
