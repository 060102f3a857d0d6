"""Text files: sniffing binaries, decoding (UTF-8, then GB 18030), one document per line."""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from pathlib import Path

from piguard.errors import DiscoveryError

SNIFF_BYTES = 8192
# Formats that are binary containers even when their first bytes look like text.
BINARY_SUFFIXES = frozenset(
    {
        ".pdf",
        ".doc",
        ".docx",
        ".xls",
        ".ppt",
        ".pptx",
        ".zip",
        ".gz",
        ".tgz",
        ".bz2",
        ".xz",
        ".7z",
        ".rar",
        ".png",
        ".jpg",
        ".jpeg",
        ".gif",
        ".bmp",
        ".webp",
        ".ico",
        ".mp3",
        ".mp4",
        ".avi",
        ".mov",
        ".wav",
        ".exe",
        ".dll",
        ".so",
        ".dylib",
        ".class",
        ".jar",
        ".pyc",
        ".sqlite",
        ".db",
        ".woff",
        ".woff2",
        ".ttf",
        ".otf",
    }
)
_CONTROL = frozenset(range(0, 32)) - {9, 10, 12, 13, 27}


def sniff_encoding(path: Path) -> str:
    """The encoding to read ``path`` with; raises ``DiscoveryError`` if it looks binary."""
    if path.suffix.lower() in BINARY_SUFFIXES:
        raise DiscoveryError(f"binary file type ({path.suffix.lower()})")
    try:
        with path.open("rb") as handle:
            head = handle.read(SNIFF_BYTES)
    except OSError as exc:
        raise DiscoveryError(f"cannot read file ({exc.strerror or type(exc).__name__})") from None
    if b"\x00" in head:
        raise DiscoveryError("binary content (NUL bytes)")
    if head and sum(byte in _CONTROL for byte in head) / len(head) > 0.05:
        raise DiscoveryError("binary content (control characters)")
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    for encoding in ("utf-8", "gb18030"):
        try:
            # A multi-byte character may be cut at the sniff boundary: decode incrementally.
            codecs.getincrementaldecoder(encoding)().decode(head, final=False)
        except UnicodeDecodeError:
            continue
        return encoding
    raise DiscoveryError("not text: neither UTF-8 nor GB 18030")


def iter_lines(path: Path, *, encoding: str) -> Iterator[tuple[int, str]]:
    """Yield (1-based line number, line without its line ending)."""
    try:
        with path.open("r", encoding=encoding, errors="strict", newline="") as handle:
            for number, line in enumerate(handle, start=1):
                yield number, line.rstrip("\r\n")
    except UnicodeDecodeError as exc:
        raise DiscoveryError(f"not valid {encoding} text ({exc.reason})") from None
    except OSError as exc:
        raise DiscoveryError(f"cannot read file ({exc.strerror or type(exc).__name__})") from None
