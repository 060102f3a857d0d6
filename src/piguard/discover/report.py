"""Scan reports: JSON (FORMATS.md section 7), a terminal table, and HTML with inline SVG charts.

Matched values appear only when the caller asks (``show_values``); the default report names
places (file, line, offsets, column) and never the personal data itself.
"""

from __future__ import annotations

from collections import Counter
from importlib import resources
from typing import Any

from jinja2 import Environment, select_autoescape
from markupsafe import Markup, escape
from rich.console import Console
from rich.table import Table

from piguard.discover.categories import CATEGORIES
from piguard.discover.scanner import ScanResult

REPORT_VERSION = "1"
TABLE_ROW_LIMIT = 500
# Malformed rows named per file in the terminal table (JSON and HTML name up to ten).
SKIPPED_LINES_SHOWN = 3


def to_json(result: ScanResult, *, show_values: bool = False) -> dict[str, Any]:
    """The report as FORMATS.md section 7 JSON (plus ``summary``, ``skipped`` and
    ``skipped_rows``: malformed rows passed over per file, the first few by line)."""
    findings = []
    for f in result.findings:
        item: dict[str, Any] = {
            "source": f.source,
            "line": f.line,
            "start": f.start,
            "end": f.end,
            "entity": f.entity,
            "category": f.category,
            "sensitive": f.sensitive,
            "score": f.score,
            "explanation": f.explanation,
        }
        if show_values and f.value is not None:
            item["value"] = f.value
        findings.append(item)
    columns = []
    for c in result.columns:
        col: dict[str, Any] = {
            "source": c.source,
            "table": c.table,
            "column": c.column,
            "entity": c.entity,
            "category": c.category,
            "sensitive": c.sensitive,
            "confidence": c.confidence,
            "matched": c.matched,
            "sampled": c.sampled,
            "kind": c.kind,
            "evidence": c.evidence,
        }
        if show_values:
            col["examples"] = list(c.examples)
        columns.append(col)
    return {
        "version": REPORT_VERSION,
        "generated_at": result.generated_at,
        "findings": findings,
        "columns": columns,
        "skipped": [{"source": s.source, "reason": s.reason, "error": s.error} for s in result.skipped],
        "skipped_rows": [
            {
                "source": r.source,
                "table": r.table,
                "rows": r.count,
                "lines": [{"line": line, "reason": reason} for line, reason in r.lines],
            }
            for r in result.skipped_rows
        ],
        "notes": [{"source": n.source, "table": n.table, "note": n.note} for n in result.notes],
        "summary": summary(result),
    }


def summary(result: ScanResult) -> dict[str, Any]:
    """Counts by category, entity and source, and what was scanned or skipped."""
    by_category: Counter[str] = Counter()
    by_entity: Counter[str] = Counter()
    by_source: Counter[str] = Counter()
    for f in result.findings:
        by_category[f.category] += 1
        by_entity[f.entity] += 1
        by_source[f.source] += 1
    by_table: Counter[tuple[str, str]] = Counter()
    for c in result.columns:
        by_category[c.category] += 1
        by_entity[c.entity] += 1
        # By the source alone (a file or a database URL): "source table" joined by a space
        # could not be told apart from a path with a space; tables are listed in by_table.
        by_source[c.source] += 1
        by_table[(c.source, c.table)] += 1
    return {
        "files_scanned": result.files_scanned,
        "lines_scanned": result.lines_scanned,
        "tables_scanned": result.tables_scanned,
        "bytes_scanned": result.bytes_scanned,
        "findings": len(result.findings),
        "columns": len(result.columns),
        "sensitive": sum(f.sensitive for f in result.findings) + sum(c.sensitive for c in result.columns),
        "skipped": len(result.skipped),
        "skipped_errors": len(result.errors),
        "rows_skipped": result.rows_skipped,
        "by_category": dict(by_category.most_common()),
        "by_entity": dict(by_entity.most_common()),
        "by_source": dict(by_source.most_common()),
        "by_table": [
            {"source": source, "table": table, "columns": count} for (source, table), count in by_table.most_common()
        ],
    }


def render_table(result: ScanResult, console: Console, *, show_values: bool = False) -> None:
    """Print the report as Rich tables."""
    if result.columns:
        table = Table(title="PI columns", title_justify="left")
        for name in ("source", "table", "column", "entity", "category", "sensitive", "confidence", "matched/sampled"):
            table.add_column(name, overflow="fold")
        if show_values:
            table.add_column("examples", overflow="fold")
        for c in result.columns:
            row = [
                c.source,
                c.table,
                c.column,
                c.entity,
                c.category,
                "yes" if c.sensitive else "no",
                f"{c.confidence:.3f}",
                f"{c.matched}/{c.sampled}",
            ]
            if show_values:
                row.append(", ".join(c.examples))
            table.add_row(*row)
        console.print(table)
    if result.findings:
        table = Table(title="PI in text", title_justify="left")
        for name in ("source", "line", "span", "entity", "category", "sensitive", "score", "explanation"):
            table.add_column(name, overflow="fold")
        if show_values:
            table.add_column("value", overflow="fold")
        for f in result.findings[:TABLE_ROW_LIMIT]:
            row = [
                f.source,
                str(f.line),
                f"{f.start}-{f.end}",
                f.entity,
                f.category,
                "yes" if f.sensitive else "no",
                f"{f.score:.2f}",
                f.explanation,
            ]
            if show_values:
                row.append(f.value or "")
            table.add_row(*row)
        console.print(table)
        if len(result.findings) > TABLE_ROW_LIMIT:
            console.print(
                f"… {len(result.findings) - TABLE_ROW_LIMIT} more findings; use --format json or html for all of them"
            )
    if result.skipped:
        table = Table(title="Skipped", title_justify="left")
        table.add_column("source", overflow="fold")
        table.add_column("reason", overflow="fold")
        for s in result.skipped:
            table.add_row(s.source, s.reason)
        console.print(table)
    if result.skipped_rows:
        table = Table(title="Skipped rows", title_justify="left")
        table.add_column("source", overflow="fold")
        table.add_column("rows", overflow="fold")
        table.add_column("first lines", overflow="fold")
        for r in result.skipped_rows:
            lines = "; ".join(f"line {line}: {reason}" for line, reason in r.lines[:SKIPPED_LINES_SHOWN])
            more = r.count - min(len(r.lines), SKIPPED_LINES_SHOWN)
            table.add_row(r.source, str(r.count), lines + (f"; … {more} more" if more > 0 else ""))
        console.print(table)
    if result.notes:
        table = Table(title="Notes", title_justify="left")
        for name in ("source", "table", "note"):
            table.add_column(name, overflow="fold")
        for n in result.notes:
            table.add_row(n.source, n.table, n.note)
        console.print(table)
    totals = summary(result)
    rows = totals["rows_skipped"]
    console.print(
        f"Scanned {totals['files_scanned']} files ({totals['lines_scanned']} lines, "
        f"{totals['tables_scanned']} tables): {totals['findings']} findings in text, "
        f"{totals['columns']} PI columns, {totals['sensitive']} sensitive; "
        f"skipped {totals['skipped']} ({totals['skipped_errors']} unreadable or malformed)"
        + (f"; {rows} malformed rows passed over in {len(result.skipped_rows)} files." if rows else "."),
        highlight=False,
        soft_wrap=True,  # one line, as scripts grep it
    )


def bar_chart(counts: dict[str, int], *, title: str, limit: int = 15) -> Markup:
    """A horizontal bar chart as inline SVG (labels escaped; no fonts or scripts needed)."""
    items = list(counts.items())[:limit]
    if not items:
        return Markup("")
    bar_h, gap, label_w, bar_w = 18, 6, 260, 360
    height = 28 + len(items) * (bar_h + gap)
    peak = max(v for _, v in items) or 1
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{label_w + bar_w + 70}" '
        f'height="{height}" aria-label="{escape(title)}">',
        f'<text x="0" y="16" font-weight="bold">{escape(title)}</text>',
    ]
    for i, (label, value) in enumerate(items):
        y = 28 + i * (bar_h + gap)
        width = max(1, round(bar_w * value / peak))
        short = label if len(label) <= 38 else "…" + label[-37:]
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 13}" text-anchor="end"><title>{escape(label)}'
            f"</title>{escape(short)}</text>"
            f'<rect x="{label_w}" y="{y}" width="{width}" height="{bar_h}" fill="#4e79a7"/>'
            f'<text x="{label_w + width + 4}" y="{y + 13}">{value}</text>'
        )
    parts.append("</svg>")
    # Safe: every label and the title went through escape() above; the rest is our markup.
    return Markup("".join(parts))  # noqa: S704


def render_html(result: ScanResult, *, show_values: bool = False) -> str:
    """A self-contained HTML report with charts by category and by source."""
    env = Environment(autoescape=select_autoescape(default=True), trim_blocks=True, lstrip_blocks=True)
    template = env.from_string(resources.files("piguard.discover.templates").joinpath("report.html").read_text("utf-8"))
    data = to_json(result, show_values=show_values)
    s = data["summary"]
    return template.render(
        report=data,
        summary=s,
        show_values=show_values,
        sensitive_categories=[name for name, sensitive in CATEGORIES.items() if sensitive],
        category_chart=bar_chart(s["by_category"], title="Findings by category"),
        source_chart=bar_chart(s["by_source"], title="Findings by source"),
        entity_chart=bar_chart(s["by_entity"], title="Findings by entity"),
    )
