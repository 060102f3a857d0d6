"""Redacting text files line by line, and writing text in the input's encoding."""

from __future__ import annotations

import codecs
from pathlib import Path
from typing import IO

from piguard.discover.analyzer import Analyzer
from piguard.discover.redact.common import LINE_BATCH, RedactStats, batched
from piguard.discover.redact.policy import Redactor, redact_text
from piguard.discover.sources import sniff_encoding
from piguard.discover.sources.rows import Line, decoded_lines, read_head, table_encoding, text_codec
from piguard.errors import DiscoveryError

__all__ = ["TextOut", "line_error", "prefer", "redact_text_file", "text_out"]


class TextOut:
    """Writes text in the input's encoding: its BOM (UTF-8 or UTF-16, either byte order) first,
    then UTF-8 or GB 18030 as the input's lines are (``text_codec``)."""

    def __init__(self, raw: IO[bytes], *, encoding: str, head: bytes) -> None:
        self._raw = raw
        if encoding == "utf-16":
            big = head.startswith(codecs.BOM_UTF16_BE)
            raw.write(codecs.BOM_UTF16_BE if big else codecs.BOM_UTF16_LE)
            self.codec = "utf-16-be" if big else "utf-16-le"
        elif encoding == "utf-8-sig":
            raw.write(codecs.BOM_UTF8)
            self.codec = "utf-8"
        else:
            self.codec = encoding

    def write(self, text: str) -> None:
        """Encode ``text`` and write it."""
        self._raw.write(text.encode(self.codec))


def text_out(source: Path, raw: IO[bytes], encoding: str) -> TextOut:
    """A ``TextOut`` for the copy of ``source``, read with ``encoding``."""
    return TextOut(raw, encoding=text_codec(source, encoding), head=read_head(source))


def line_error(line: Line) -> DiscoveryError:
    """The error that stops a redaction at an unreadable line (its number and the reason)."""
    return DiscoveryError(f"malformed file at line {line.number}: {line.reason}")


def redact_text_file(source: Path, raw: IO[bytes], *, analyzer: Analyzer, redactor: Redactor) -> RedactStats:
    """Line by line, each line's ending kept; a line that is neither UTF-8 nor GB 18030 stops it.

    A gzip-compressed input (``app.log.gz``) is decompressed as it is read; ``raw`` receives text
    (the caller compresses it when OUT is named ``.gz``)."""
    stats = RedactStats()
    # Either raises DiscoveryError for binaries; a .gz file is judged on its decompressed head.
    compressed = source.name.lower().endswith(".gz")
    encoding = table_encoding(source) if compressed else sniff_encoding(source, tolerant=True)
    out = text_out(source, raw, encoding)
    lines = decoded_lines(source, encoding, nul_ok=True, prefer=prefer(out.codec))
    for batch in batched(lines, LINE_BATCH):
        # Batches of lines: the PERSON tagger runs them together.
        bodies = []
        for line in batch:
            if line.text is None:
                raise line_error(line)
            bodies.append(line.text.rstrip("\r\n"))
        for line, body, found in zip(batch, bodies, analyzer.analyze_many(bodies), strict=True):
            assert line.text is not None
            redacted, count = redact_text(body, analyzer=analyzer, redactor=redactor, findings=found)
            stats.rows += 1
            stats.findings += count
            stats.values_changed += count
            out.write(redacted + line.text[len(body) :] if count else line.text)
    return stats


def prefer(codec: str) -> str:
    """Which of UTF-8 and GB 18030 lines are decoded with first: the one they are written in."""
    return "gb18030" if codec == "gb18030" else "utf-8"
