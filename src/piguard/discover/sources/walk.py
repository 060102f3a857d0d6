"""Expanding the PATH arguments of ``piguard scan`` into files, recursively, in order."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from piguard.discover.sources.base import Skipped

DEFAULT_MAX_BYTES = 256 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class FileItem:
    """One regular file to scan; ``source`` is how reports name it."""

    path: Path
    source: str
    size: int


def iter_files(paths: Sequence[Path], *, max_bytes: int = DEFAULT_MAX_BYTES) -> Iterator[FileItem | Skipped]:
    """Files under ``paths`` in sorted order, or a ``Skipped`` naming the file and why.

    Symbolic links to directories are not followed (they can loop); a missing or unreadable
    argument is an error, a file over ``max_bytes`` is skipped by design.
    """
    for root in paths:
        if root.is_dir():
            yield from _walk(root, max_bytes=max_bytes)
        elif root.exists():
            yield _item(root, max_bytes=max_bytes)
        else:
            yield Skipped(str(root), "no such file or directory", error=True)


def _walk(root: Path, *, max_bytes: int) -> Iterator[FileItem | Skipped]:
    errors: list[Skipped] = []

    def on_error(exc: OSError) -> None:
        errors.append(Skipped(str(exc.filename or root), f"cannot list directory ({exc.strerror})", error=True))

    for folder, dirs, files in os.walk(root, onerror=on_error, followlinks=False):
        dirs.sort()
        yield from errors
        errors.clear()
        for name in dirs:
            if os.path.islink(os.path.join(folder, name)):
                # Not followed (it may loop or leave the tree), but said: its files go unscanned.
                yield Skipped(str(Path(folder) / name), "symbolic link to a directory (not followed)", error=False)
        for name in sorted(files):
            yield _item(Path(folder) / name, max_bytes=max_bytes)
    yield from errors


def _item(path: Path, *, max_bytes: int) -> FileItem | Skipped:
    try:
        stat = path.stat()
    except OSError as exc:
        return Skipped(str(path), f"cannot read file ({exc.strerror})", error=True)
    if not path.is_file():
        return Skipped(str(path), "not a regular file", error=False)
    if not os.access(path, os.R_OK):
        return Skipped(str(path), "permission denied", error=True)
    if stat.st_size > max_bytes:
        return Skipped(
            str(path),
            f"larger than the size limit ({stat.st_size} > {max_bytes} bytes)",
            error=False,
        )
    return FileItem(path=path, source=str(path), size=stat.st_size)
