"""Text files: sniffing binaries, decoding (UTF-8, then GB 18030), one document per line."""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from pathlib import Path

from piguard.discover.sources.base import RowProblems
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
# Bytes a decoder could not read, kept as lone surrogates by errors="surrogateescape".
_ESCAPED = re.compile("[\udc80-\udcff]").search


def vote_encoding(head: bytes) -> str | None:
    """``utf-8`` or ``gb18030``, whichever decodes more of the lines of ``head`` (lines are
    decoded one by one: a row pasted from another system is the row's problem), or None when
    most lines are neither."""
    lines = head.split(b"\n")
    if len(head) == SNIFF_BYTES and len(lines) > 1:
        lines.pop()  # cut at the sniff boundary
    votes = {"utf-8": 0, "gb18030": 0, "none": 0}
    for raw in lines:
        if raw.isascii():
            continue
        for encoding in ("utf-8", "gb18030"):
            try:
                raw.decode(encoding)
            except UnicodeDecodeError:
                continue
            votes[encoding] += 1
            break
        else:
            votes["none"] += 1
    if votes["none"] > votes["utf-8"] + votes["gb18030"]:
        return None
    return "gb18030" if votes["gb18030"] > votes["utf-8"] else "utf-8"


# BOM-less UTF-16 (Windows' "Unicode" without its mark): in text that is partly ASCII (digits,
# delimiters, line breaks) one byte of each pair is NUL, always the same one of the two.
_UTF16_NUL_SHARE = 0.2
_UTF16_OTHER_NUL_SHARE = 0.02
# Fewest ASCII characters (pairs with a NUL) that make a head UTF-16 text rather than bytes.
_UTF16_MIN_ASCII = 8
# Text that is almost all Chinese has next to no NUL bytes in UTF-16 (一 is 00 4E, a line
# break 0A 00): it is told by what it decodes to instead. Ideographs must be at least this
# share of the characters, nearly all of them common ones (GB 2312 or Big5), and nearly
# nothing else may fall outside the characters such text is written with.
_CJK_MIN_SHARE = 0.3
_CJK_MAX_UNCOMMON = 0.1
_CJK_MAX_OTHER = 0.02
_CJK_MIN_CHARS = 4
_IDEOGRAPHS = re.compile("[\u3400-\u4dbf\u4e00-\u9fff]")
# What else Chinese text is written with: ASCII text and white space, Latin-1 signs (·, ×, °),
# general punctuation and symbols (“”, …, ①, ■, ★), CJK punctuation, kana, full-width forms
# and emoji. C0 control characters (NUL included), private-use and unassigned code points
# are not: binaries decode to them.
_WRITTEN = re.compile(
    "[\t\n\r\f\x1b\x20-\x7e\xa0-\xff\u2000-\u27bf\u3000-\u30ff\u3200-\u33ff"
    "\ufe30-\ufe4f\uff00-\uffef\U0001f000-\U0001faff]"
)


def bomless_utf16(head: bytes) -> str | None:
    """``utf-16-le`` or ``utf-16-be`` when ``head`` is UTF-16 text without a byte order mark,
    else None: either partly ASCII (NULs in one byte position of the pairs only, and it
    decodes) or almost all Chinese (``chinese_utf16``)."""
    pairs = len(head) // 2
    odd, even = head[1::2].count(0), head[0::2].count(0)
    for nul, other, codec in ((odd, even, "utf-16-le"), (even, odd, "utf-16-be")):
        if nul >= max(_UTF16_MIN_ASCII, _UTF16_NUL_SHARE * pairs):
            try:
                text = codecs.getincrementaldecoder(codec)().decode(head[: 2 * pairs], final=False)
            except UnicodeDecodeError:
                break
            if other <= _UTF16_OTHER_NUL_SHARE * pairs:
                control = sum(ord(ch) in _CONTROL for ch in text)
                if control <= 0.05 * max(len(text), 1):
                    return codec
            elif _written_text(text):
                # NULs in the other byte too: Chinese characters whose code unit holds a zero
                # byte (一 U+4E00, 开 U+5F00, 最, 需, 退 ...), or a binary. The decoded text
                # tells: a binary decodes to NULs, controls and rare characters.
                return codec
            break
    return chinese_utf16(head)


def _written_text(text: str) -> bool:
    """Whether ``text`` is made of what text is written with (``_WRITTEN``) and ideographs,
    nearly all of them common ones."""
    if not text:
        return False
    ideographs = "".join(_IDEOGRAPHS.findall(text))
    other = len(text) - len(ideographs) - len(_WRITTEN.findall(text))
    if other > _CJK_MAX_OTHER * len(text):
        return False
    return min(_uncommon(ideographs, "gb2312"), _uncommon(ideographs, "big5")) <= _CJK_MAX_UNCOMMON * len(ideographs)


def chinese_utf16(head: bytes) -> str | None:
    """``utf-16-le`` or ``utf-16-be`` when ``head`` decodes to text that is mostly common Chinese
    characters, else None.

    Binaries do not pass: compressed data (ZIP, PNG, gzip) holds unpaired surrogates and fails
    to decode, headers (SQLite, ZIP, PNG) decode to control characters, and ASCII or Latin-1
    bytes read two at a time (a PDF's head) give ideographs, but a third of them rare ones.
    """
    pairs = len(head) // 2
    if pairs < _CJK_MIN_CHARS:
        return None
    for codec in ("utf-16-le", "utf-16-be"):
        try:
            text = codecs.getincrementaldecoder(codec)().decode(head[: 2 * pairs], final=False)
        except UnicodeDecodeError:
            continue
        ideographs = "".join(_IDEOGRAPHS.findall(text))
        if not text or len(ideographs) < max(_CJK_MIN_SHARE * len(text), _CJK_MIN_CHARS):
            continue
        other = len(text) - len(ideographs) - len(_WRITTEN.findall(text))
        if other > _CJK_MAX_OTHER * len(text):
            continue
        # Simplified text is GB 2312, traditional text Big5, nearly character for character.
        uncommon = min(_uncommon(ideographs, "gb2312"), _uncommon(ideographs, "big5"))
        if uncommon <= _CJK_MAX_UNCOMMON * len(ideographs):
            return codec
    return None


def _uncommon(ideographs: str, charset: str) -> int:
    """How many of ``ideographs`` (no "?" among them) ``charset`` cannot encode."""
    return ideographs.encode(charset, errors="replace").count(b"?")


def utf8_head(head: bytes) -> bool:
    """Whether ``head`` is UTF-8 (a character cut at its end allowed)."""
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return False
    return True


def sniff_encoding(path: Path, *, tolerant: bool = False) -> str:
    """The encoding to read ``path`` with; raises ``DiscoveryError`` if it looks binary.

    With ``tolerant`` (a scan, which reads lines one by one), a head that is neither UTF-8
    nor GB 18030 as a whole is judged line by line (``vote_encoding``).
    """
    if path.suffix.lower() in BINARY_SUFFIXES:
        raise DiscoveryError(f"binary file type ({path.suffix.lower()})")
    try:
        with path.open("rb") as handle:
            head = handle.read(SNIFF_BYTES)
    except OSError as exc:
        raise DiscoveryError(f"cannot read file ({exc.strerror or type(exc).__name__})") from None
    # UTF-16 text is half NUL bytes: its byte order mark is looked at before any NUL.
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if b"\x00" in head:
        utf16 = bomless_utf16(head)
        if utf16 is not None:
            return utf16
        raise DiscoveryError("binary content (NUL bytes)")
    if not head.isascii() and not utf8_head(head):
        # Chinese in UTF-16 has few NULs or none, and one byte in ten of it is a control byte.
        utf16 = chinese_utf16(head)
        if utf16 is not None:
            return utf16
    if head and sum(byte in _CONTROL for byte in head) / len(head) > 0.05:
        raise DiscoveryError("binary content (control characters)")
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    for encoding in ("utf-8", "gb18030"):
        try:
            # A multi-byte character may be cut at the sniff boundary: decode incrementally.
            codecs.getincrementaldecoder(encoding)().decode(head, final=False)
        except UnicodeDecodeError:
            continue
        return encoding
    voted = vote_encoding(head) if tolerant else None
    if voted is None:
        raise DiscoveryError("not text: neither UTF-8 nor GB 18030")
    return voted


def iter_lines(path: Path, *, encoding: str, problems: RowProblems | None = None) -> Iterator[tuple[int, str]]:
    """Yield (1-based line number, line without its line ending).

    Without ``problems`` a byte sequence that is not ``encoding`` ends the read with
    ``DiscoveryError``. With it (a scan), such a line is decoded with the other encoding
    (UTF-8 or GB 18030: a line pasted from another system) or, failing that, noted in
    ``problems`` and passed over; only a file with fewer good lines than bad raises, when the
    reading ends. A newline byte is never part of a multi-byte character in either encoding,
    so an undecodable byte never spreads past its line.
    """
    if problems is None:
        try:
            with path.open("r", encoding=encoding, errors="strict", newline="") as handle:
                for number, line in enumerate(handle, start=1):
                    yield number, line.rstrip("\r\n")
        except UnicodeDecodeError as exc:
            raise DiscoveryError(f"not valid {encoding} text ({exc.reason})") from None
        except OSError as exc:
            raise DiscoveryError(f"cannot read file ({exc.strerror or type(exc).__name__})") from None
        return
    other = "gb18030" if encoding.startswith("utf-8") else "utf-8"
    errors = "strict" if encoding.startswith("utf-16") else "surrogateescape"
    good = 0
    try:
        with path.open("r", encoding=encoding, errors=errors, newline="") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.isascii() and _ESCAPED(line) is not None:
                    raw = line.encode(encoding.removesuffix("-sig"), "surrogateescape")
                    try:
                        line = raw.decode(other)
                    except UnicodeDecodeError:
                        problems.note(number, "not UTF-8 or GB 18030 text")
                        continue
                good += 1
                yield number, line.rstrip("\r\n")
    except UnicodeDecodeError as exc:
        raise DiscoveryError(f"not valid {encoding} text ({exc.reason})") from None
    except OSError as exc:
        raise DiscoveryError(f"cannot read file ({exc.strerror or type(exc).__name__})") from None
    error = problems.error_if_most(good)
    if error is not None:
        raise error
