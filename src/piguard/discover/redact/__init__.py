"""Redaction: mask what discovery finds, keeping the file's format, row order and columns.

Text is redacted per finding. Tables are column-aware: the columns are classified on a
sample first; a column that *is* an entity is transformed whole (every value, also the
ones a validator would miss, such as a mistyped phone number); every other value is
redacted per finding. Files are read and written as streams (CSV/TSV and JSONL line by
line, a JSON array item by item, Parquet by record batches), in the input's encoding
(UTF-8 with or without BOM, GB 18030, UTF-16) and line endings; a row or line left
unchanged is written back as it was read. Output goes to a private (0600) temporary file
beside OUT, renamed into place on success: a failure leaves no partial file.

The package is split by concern: ``policy`` (how a value or a span is replaced), ``files``
(``redact_file``: format dispatch, the temporary file and its rename), ``text`` (text files and
the output encoding), ``delimited`` (CSV/TSV), ``jsonfiles`` (JSONL and JSON arrays), ``parquet``,
``values`` (per-finding redaction of cells and nested values) and ``common``.
"""

from __future__ import annotations

from piguard.discover.redact.common import RedactStats
from piguard.discover.redact.files import redact_file
from piguard.discover.redact.policy import POLICIES, Change, Redactor, mask_value, redact_text
from piguard.discover.redact.values import distinct_keys

__all__ = ["POLICIES", "Change", "RedactStats", "Redactor", "distinct_keys", "mask_value", "redact_file", "redact_text"]
