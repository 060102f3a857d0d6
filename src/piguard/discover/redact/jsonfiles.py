"""Redacting JSONL files line by line and JSON arrays item by item."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import IO, Any

from piguard.discover.redact.common import CHUNK_ROWS, RedactStats, batched, ending
from piguard.discover.redact.policy import Change
from piguard.discover.redact.text import TextOut, line_error, prefer, text_out
from piguard.discover.redact.values import PerFinding, redact_value, value_texts
from piguard.discover.sources import sniff_encoding
from piguard.discover.sources.rows import decoded_lines, json_array_items, read_head, table_encoding, text_codec
from piguard.errors import DiscoveryError
from piguard.interchange.tabular import UNIQUE_KEYS, RepeatedKeyError

__all__ = ["redact_json", "redact_jsonl"]


# A key shown in an error is cut to keep the message one line.
_MAX_KEY_SHOWN = 64


def repeated_key_error(where: str, key: str, other: PerFinding) -> DiscoveryError:
    """The error for an object naming ``key`` twice at ``where`` (``line 3``, ``item 4``); a key
    holding personal information is shown redacted, as it would be in the copy."""
    shown = other.name(key) or ""
    if len(shown) > _MAX_KEY_SHOWN:
        shown = shown[: _MAX_KEY_SHOWN - 3] + "..."
    return DiscoveryError(
        f"malformed file at {where}: key '{shown}' appears more than once in one object "
        "(the copy would keep only one of its values)"
    )


def redact_jsonl(
    source: Path, raw: IO[bytes], *, whole: dict[str, Change], other: PerFinding, stats: RedactStats
) -> None:
    """JSONL line by line: an unchanged line is written back as it was; a changed one keeps its
    keys, their order, nulls and the types of untouched values, and the line's spacing style."""
    encoding = table_encoding(source)
    out = text_out(source, raw, encoding)
    for batch in batched(decoded_lines(source, encoding, prefer=prefer(out.codec)), CHUNK_ROWS):
        parsed: list[tuple[str, dict[str, Any] | None]] = []
        for line in batch:
            if line.text is None:
                raise line_error(line)
            obj = None
            if line.text.strip():
                try:
                    obj = UNIQUE_KEYS.decode(line.text)
                except RepeatedKeyError as exc:
                    raise repeated_key_error(f"line {line.number}", exc.key, other) from None
                except json.JSONDecodeError as exc:
                    raise DiscoveryError(f"malformed file at line {line.number}: invalid JSON ({exc.msg})") from None
                if not isinstance(obj, dict):
                    raise DiscoveryError(f"malformed file at line {line.number}: expected a JSON object")
            parsed.append((line.text, obj))
        other.prefetch(t for _, obj in parsed if obj is not None for t in value_texts(obj, "", whole))
        for text, obj in parsed:
            if obj is None:
                out.write(text)
                continue
            stats.rows += 1
            data, count = redact_value(obj, "", whole, other)
            stats.values_changed += count
            if not count:
                out.write(text)
                continue
            spaced = '": ' in text or '", ' in text
            out.write(
                json.dumps(
                    data,
                    ensure_ascii=text.isascii() and "\\u" in text,
                    separators=(", ", ": ") if spaced else (",", ":"),
                )
                + ending(text)
            )


# "[", a line ending and the indentation of the first item: a pretty-printed array.
_PRETTY = re.compile(r"\A\ufeff?\s*\[(\r?\n)([ \t]+)[{\[]")


def redact_json(
    source: Path, raw: IO[bytes], *, whole: dict[str, Change], other: PerFinding, stats: RedactStats
) -> None:
    """A JSON array item by item (never held whole), written compact or indented as the input."""
    encoding = text_codec(source, sniff_encoding(source))
    head = read_head(source)
    out = TextOut(raw, encoding=encoding, head=head)
    pretty = _PRETTY.match(head.decode(out.codec, errors="ignore"))
    newline, indent = (pretty.group(1), pretty.group(2)) if pretty else ("", "")
    ascii_only = head.isascii() and b"\\u" in head
    out.write("[")
    first = True
    for batch in batched(json_array_items(source, encoding=encoding), CHUNK_ROWS):
        other.prefetch(t for item in batch for t in value_texts(item, "", whole))
        for item in batch:
            stats.rows += 1
            data, count = redact_value(item, "", whole, other)
            stats.values_changed += count
            if pretty:
                text = json.dumps(data, ensure_ascii=ascii_only, indent=indent).replace("\n", newline + indent)
                out.write(("" if first else ",") + newline + indent + text)
            else:
                out.write(("" if first else ", ") + json.dumps(data, ensure_ascii=ascii_only))
            first = False
    out.write((newline if pretty and not first else "") + "]" + ending(_tail(source, out.codec)))


def _tail(path: Path, codec: str) -> str:
    """The last characters of a file (for its final line ending)."""
    with path.open("rb") as handle:
        handle.seek(max(0, path.stat().st_size - 4))
        return handle.read().decode(codec, errors="ignore")
