"""``piguard scan`` (find PI in files and databases) and ``piguard redact`` (mask it).

Exit codes (FORMATS.md section 8): 0 ran, whatever was found; 2 bad usage or unreadable
input (also when some inputs could not be read: the report is still written); 1 any other
failure; 3 with ``--fail-on-findings`` when something was found.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import IO, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from piguard.cli.common import err_console, fail, load_settings
from piguard.errors import ConfigError, DiscoveryError, InputError, PiguardError

EXIT_FINDINGS = 3


class ReportFormat(StrEnum):
    """Report formats of ``piguard scan``."""

    table = "table"
    json = "json"
    html = "html"


class Policy(StrEnum):
    """Redaction policies of ``piguard redact``."""

    mask = "mask"
    hash = "hash"
    pseudonym = "pseudonym"
    remove = "remove"


ReferenceDate = Annotated[
    datetime | None,
    typer.Option(
        "--reference-date",
        formats=["%Y-%m-%d"],
        help="Age birth dates on this day (YYYY-MM-DD) for minors' data; default: today.",
    ),
]


def _split(values: list[str] | None) -> list[str] | None:
    """Options given repeatedly and/or comma-separated: ``--entities A,B --entities C``."""
    if not values:
        return None
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def scan(
    paths: Annotated[list[Path] | None, typer.Argument(help="Files or directories to scan.")] = None,
    db: Annotated[str | None, typer.Option("--db", help="SQLAlchemy URL of a database.")] = None,
    tables: Annotated[list[str] | None, typer.Option("--tables", help="Tables to sample (default: all).")] = None,
    fmt: Annotated[ReportFormat, typer.Option("--format", help="Report format.")] = ReportFormat.table,
    out: Annotated[Path | None, typer.Option("--out", help="Write the report here.")] = None,
    entities: Annotated[
        list[str] | None, typer.Option("--entities", help="Only these entities (comma-separated).")
    ] = None,
    sample: Annotated[int, typer.Option("--sample", min=1, help="Rows sampled per table.")] = 1000,
    show_values: Annotated[
        bool, typer.Option("--show-values", help="Include the matched values (personal data!).")
    ] = False,
    fail_on_findings: Annotated[
        bool, typer.Option("--fail-on-findings", help="Exit 3 when anything is found.")
    ] = False,
    max_bytes: Annotated[int, typer.Option("--max-bytes", min=1, help="Skip files larger than this.")] = 256
    * 1024
    * 1024,
    min_confidence: Annotated[
        float, typer.Option("--min-confidence", min=0.0, max=1.0, help="Column report threshold.")
    ] = 0.5,
    custom_rules: Annotated[
        Path | None, typer.Option("--custom-rules", help="YAML file of custom recognizers.")
    ] = None,
    progress: Annotated[bool, typer.Option("--progress/--no-progress", help="Progress bar.")] = True,
    reference_date: ReferenceDate = None,
) -> None:
    """Find personal information in files, directories and database tables."""
    if not paths and not db:
        raise fail("give at least one PATH or --db URL", code=2)
    if tables and not db:
        raise fail("--tables needs --db", code=2)
    try:
        from piguard.discover.analyzer import Analyzer
        from piguard.discover.report import render_html, render_table, to_json
        from piguard.discover.scanner import ScanResult, scan_database, scan_paths
        from piguard.discover.sources import Skipped

        analyzer = Analyzer(entities=_split(entities), custom_rules=custom_rules)
        _print_warnings(analyzer.warnings)
        result = ScanResult()
        bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.percentage:>3.0f}%"),
            TimeRemainingColumn(),
            console=err_console,
            transient=True,
            disable=not progress or not err_console.is_terminal,
        )

        def on_skip(entry: Skipped) -> None:
            # File names may contain [brackets]: escape them so Rich does not read markup.
            bar.console.print(
                f"[yellow]skipped[/] {escape(entry.source)}: {escape(entry.reason)}", highlight=False, soft_wrap=True
            )

        with bar:
            if paths:
                result.merge(
                    scan_paths(
                        paths,
                        analyzer=analyzer,
                        sample=sample,
                        max_bytes=max_bytes,
                        keep_values=show_values,
                        min_confidence=min_confidence,
                        progress=bar,
                        on_skip=on_skip,
                        reference_date=reference_date.date() if reference_date else None,
                    )
                )
            if db:
                result.merge(
                    scan_database(
                        db,
                        analyzer=analyzer,
                        tables=_split(tables),
                        sample=sample,
                        min_confidence=min_confidence,
                        on_skip=on_skip,
                        reference_date=reference_date.date() if reference_date else None,
                    )
                )
        if fmt is ReportFormat.json:
            text = json.dumps(to_json(result, show_values=show_values), ensure_ascii=False, indent=2) + "\n"
            _emit(text, out)
        elif fmt is ReportFormat.html:
            _emit(render_html(result, show_values=show_values), out)
        elif out is None:
            # Piped or redirected output gets the same width as --out, not Rich's 80 columns.
            wide = Console() if sys.stdout.isatty() else Console(width=160, color_system=None)
            render_table(result, wide, show_values=show_values)
        else:
            with _open_out(out) as handle:
                render_table(
                    result,
                    Console(file=handle, width=160, color_system=None, force_terminal=False),
                    show_values=show_values,
                )
    except (InputError, ConfigError) as exc:
        raise fail(str(exc), code=2) from None
    except PiguardError as exc:
        # DiscoveryError here means a whole source (a database) could not be read at all.
        raise fail(str(exc), code=2 if isinstance(exc, DiscoveryError) else 1) from None
    except OSError as exc:
        place = out or exc.filename or "to stdout"
        raise fail(f"cannot write report {place} ({exc.strerror or type(exc).__name__})", code=1) from None
    except Exception as exc:  # the door never shows a traceback (it could hold record data)
        raise fail(f"internal error ({type(exc).__name__}); please report it", code=1) from None
    if result.errors:
        err_console.print(
            f"[yellow]{len(result.errors)} input(s) could not be read; see the skipped list in the report[/]",
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(2)
    if fail_on_findings and result.found_anything:
        raise typer.Exit(EXIT_FINDINGS)


def _print_warnings(warnings: list[str]) -> None:
    """Print what the custom rules hold that is valid but cannot work (one line each)."""
    for warning in warnings:
        err_console.print(f"[yellow]warning:[/] {escape(warning)}", highlight=False, soft_wrap=True)


def _open_out(out: Path) -> IO[str]:
    out.parent.mkdir(parents=True, exist_ok=True)
    return out.open("w", encoding="utf-8")


def _emit(text: str, out: Path | None) -> None:
    if out is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    with _open_out(out) as handle:
        handle.write(text)


def redact(
    source: Annotated[Path, typer.Argument(help="Input: text, CSV/TSV, JSON/JSONL or Parquet.")],
    target: Annotated[Path, typer.Argument(help="Output, in the input's format.")],
    policy: Annotated[Policy, typer.Option("--policy", help="How to replace PI.")] = Policy.mask,
    entities: Annotated[
        list[str] | None, typer.Option("--entities", help="Only these entities (comma-separated).")
    ] = None,
    key_file: Annotated[
        Path | None,
        typer.Option("--key-file", help="Pseudonym key (hex, >= 32 bytes); default: the installation secret."),
    ] = None,
    sample: Annotated[int, typer.Option("--sample", min=1, help="Rows sampled per table.")] = 1000,
    custom_rules: Annotated[
        Path | None, typer.Option("--custom-rules", help="YAML file of custom recognizers.")
    ] = None,
    reference_date: ReferenceDate = None,
) -> None:
    """Mask personal information in a file, keeping its format (column-aware for tables)."""
    try:
        from piguard.discover.analyzer import Analyzer
        from piguard.discover.redact import Redactor, redact_file

        key = _pseudonym_key(key_file) if policy is Policy.pseudonym else None
        if policy is Policy.hash:
            err_console.print(
                "[yellow]note:[/] unkeyed hashes of phone or ID numbers can be "
                "reversed by trying every number; prefer --policy pseudonym",
                highlight=False,
                soft_wrap=True,
            )
        analyzer = Analyzer(entities=_split(entities), custom_rules=custom_rules)
        _print_warnings(analyzer.warnings)
        stats = redact_file(
            source,
            target,
            analyzer=analyzer,
            redactor=Redactor(policy.value, key=key),
            sample=sample,
            reference_date=reference_date.date() if reference_date else None,
        )
    except (InputError, ConfigError) as exc:
        raise fail(str(exc), code=2) from None
    except PiguardError as exc:
        raise fail(str(exc), code=1) from None
    except OSError as exc:
        raise fail(f"cannot write {target} ({exc.strerror or type(exc).__name__})", code=1) from None
    except Exception as exc:  # the door never shows a traceback (it could hold record data)
        raise fail(f"internal error ({type(exc).__name__}); please report it", code=1) from None
    # One entry per column: a birth-date column of children is listed by its first entity only.
    first_entity: dict[str, str] = {}
    for change in stats.columns:
        if change.kind == "values":
            first_entity.setdefault(change.column, change.entity)
    whole = ", ".join(f"{column} ({entity})" for column, entity in first_entity.items())
    # A column transformed whole is not also redacted per finding (its other PI goes with it).
    whole_columns = set(first_entity)
    free = ", ".join(sorted({c.column for c in stats.columns if c.kind == "free_text"} - whole_columns))
    err_console.print(
        f"redacted {stats.rows} rows/lines, {stats.values_changed} values changed"
        + (f"; whole columns: {whole}" if whole else "")
        + (f"; free-text columns: {free}" if free else ""),
        highlight=False,
        soft_wrap=True,
    )
    for note in stats.notes:  # e.g. a Parquet column that became text; never a value
        err_console.print(f"note: {note}", highlight=False, soft_wrap=True)


#: HKDF info of the pseudonym key derived from the installation secret.
_PSEUDONYM_KEY_INFO = b"piguard redact pseudonym key v1"


def _pseudonym_key(key_file: Path | None) -> bytes:
    """The key for pseudonyms: ``--key-file`` (hex, private) or a subkey of the installation secret."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    from piguard.keys import MIN_SECRET_BYTES, load_secret

    if key_file is None:
        # A dedicated subkey: the installation secret also signs tokens, so it is never used directly.
        secret = load_secret(load_settings())
        return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_PSEUDONYM_KEY_INFO).derive(secret)
    try:
        # Whoever reads the key can reverse every pseudonym by trying all phone or ID numbers.
        if key_file.stat().st_mode & 0o077:
            raise InputError("key file is readable by others: chmod 600 it", where=str(key_file))
        raw = key_file.read_bytes().strip()
    except OSError as exc:
        raise InputError(f"cannot read key file ({exc.strerror})", where=str(key_file)) from None
    try:
        key = bytes.fromhex(raw.decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        raise InputError("key file is not hex-encoded", where=str(key_file)) from None
    if len(key) < MIN_SECRET_BYTES or len(set(key)) < 8:
        raise InputError(f"key must be at least {MIN_SECRET_BYTES} random bytes", where=str(key_file))
    return key


def register(app: typer.Typer) -> None:
    """Add ``scan`` and ``redact`` to the main app."""
    app.command("scan")(scan)
    app.command("redact")(redact)
