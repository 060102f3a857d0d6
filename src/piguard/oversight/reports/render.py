"""Render a monthly report as HTML (charts as inline SVG) or PDF (matplotlib PdfPages).

Same data, same bytes: every list in ``MonthlyData`` is sorted, the charts are drawn with fixed
settings, the HTML carries no generation time, and the PDF's creation and modification dates are
the end of the report month.
"""

from __future__ import annotations

import io

import jinja2
import matplotlib.pyplot as plt
from markupsafe import Markup, escape
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from piguard.oversight.reports import charts
from piguard.oversight.reports.data import MonthlyData

FORMATS = ("html", "pdf")
LINES_PER_PAGE = 48

_TEMPLATE = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined).from_string(
    """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Privacy report {{ d.title }} {{ d.month }}</title>
<style>
body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;color:#1a202c}
table{border-collapse:collapse;margin:.5rem 0 1rem}td,th{border:1px solid #cbd5e0;padding:.2rem .5rem;text-align:left}
td.n{text-align:right}.kpi{display:flex;gap:1rem;flex-wrap:wrap}.kpi div{border:1px solid #cbd5e0;padding:.5rem 1rem}
.kpi b{display:block;font-size:1.6rem}figure{margin:0}
</style></head><body>
<h1>Monthly privacy report: {{ d.title }}, {{ d.month }}</h1>
<p>Period {{ d.start.date() }} to {{ d.end.date() }} (exclusive), Beijing time (UTC+8). Figures as recorded in the
ledger and the oversight records before the end of the period.</p>
<section class="kpi">
<div><b>{{ d.accesses }}</b>accesses</div><div><b>{{ d.denials }}</b>denials</div>
<div><b>{{ d.breakglass }}</b>break-glass uses</div><div><b>{{ d.alerts }}</b>alerts</div>
<div><b>{{ d.cases_opened }}</b>cases opened</div><div><b>{{ d.overdue|length }}</b>overdue rectification items</div>
<div><b>{{ d.training_coverage }}</b>staff with valid training</div>
</section>
<h2>Accesses and denials</h2>
<figure>{{ svgs[0]|safe }}</figure><figure>{{ svgs[1]|safe }}</figure>
<h3>Most frequent denial reasons</h3>
{{ table(["reason", "denials"], d.denial_reasons) }}
<h3>Break-glass uses by account</h3>
{{ table(["account", "uses"], d.breakglass_users) }}
<h2>Alerts</h2>
<p>{% if d.alerts_source == "file" %}Alerts in the given detection output whose first event falls in the month
{%- else %}Cases opened from alerts in the month{% endif %}: {{ d.alerts }}.</p>
{% if d.alerts_by_severity %}{{ table(["severity", "alerts"], d.alerts_by_severity) }}{% endif %}
<h2>Investigations</h2>
<p>Opened: {{ d.cases_opened }}; closed: {{ d.cases_closed }}.</p>
<h3>Cases by state at the end of the month</h3>
{{ table(["state", "cases"], d.cases_by_state) }}
<h3>Dispositions approved in the month</h3>
{{ table(["disposition", "count"], d.dispositions) }}
<h2>Close relatives' requests (PIPL Art. 49)</h2>
<p>About this organisation's records: received {{ d.family_received }}, answered {{ d.family_answered }},
refused {{ d.family_refused }} in the month; unanswered past their 30 days at its end:
<b>{{ d.family_overdue }}</b>.</p>
<h2>Rectification</h2>
<figure>{{ svgs[2]|safe }}</figure>
{{ table(["status", "items"], d.rectification) }}
<h3>Overdue items</h3>
{{ table(["recommendation", "item", "owner", "deadline", "days overdue", "description"], overdue) }}
<h2>Training coverage</h2>
<figure>{{ svgs[3]|safe }}</figure>
{{ table(["organisation", "trained", "staff"], d.training_by_org) }}
</body></html>
"""
)


def html_table(header: list[str], rows: list[tuple[object, ...]], empty: str = "none") -> Markup:
    """An HTML table (escaped); numbers right-aligned; ``empty`` when there are no rows."""
    if not rows:
        return Markup(f"<p><i>{escape(empty)}</i></p>")  # noqa: S704 (escaped)
    esc = escape
    head = "".join(f"<th>{esc(h)}</th>" for h in header)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="n">{cell}</td>' if isinstance(cell, int) else f"<td>{esc(str(cell))}</td>" for cell in row
        )
        + "</tr>"
        for row in rows
    )
    return Markup(f"<table><tr>{head}</tr>{body}</table>")  # noqa: S704 (every header and cell escaped above)


def _overdue_rows(data: MonthlyData) -> list[tuple[object, ...]]:
    return [
        (o.reference_no, o.seq, o.owner_org, o.deadline.strftime("%Y-%m-%d"), o.days_overdue, o.description)
        for o in data.overdue
    ]


def html(data: MonthlyData) -> bytes:
    """The report as one self-contained HTML document."""
    with charts.style():
        svgs = [charts.svg(chart(data)) for chart in charts.CHARTS]
    text = _TEMPLATE.render(d=data, svgs=svgs, table=html_table, overdue=_overdue_rows(data))
    return text.encode("utf-8")


def _summary_lines(data: MonthlyData) -> list[str]:
    lines = [
        f"Monthly privacy report: {data.title}, {data.month}",
        f"Period {data.start.date()} to {data.end.date()} (exclusive), Beijing time (UTC+8)",
        "",
        f"Accesses            {data.accesses:>8}",
        f"Denials             {data.denials:>8}",
        f"Break-glass uses    {data.breakglass:>8}",
        f"Alerts ({data.alerts_source:<5})      {data.alerts:>8}",
        f"Cases opened        {data.cases_opened:>8}",
        f"Cases closed        {data.cases_closed:>8}",
        f"Overdue items       {len(data.overdue):>8}",
        f"Training coverage   {data.training_coverage:>8}",
    ]

    def section(title: str, rows: list[tuple[object, ...]]) -> None:
        lines.extend(["", title])
        lines.extend(["  " + "  ".join(str(c) for c in row) for row in rows] or ["  none"])

    section("Denial reasons", [(n, r) for r, n in data.denial_reasons])
    section("Break-glass uses by account", [(n, u) for u, n in data.breakglass_users])
    section("Alerts by severity", list(data.alerts_by_severity))
    section("Cases by state (end of month)", list(data.cases_by_state))
    section("Dispositions approved", list(data.dispositions))
    section("Rectification items by status", list(data.rectification))
    section("Overdue items", [row[:5] for row in _overdue_rows(data)])
    section(
        "Close relatives' requests (PIPL Art. 49)",
        [
            ("received", data.family_received),
            ("answered", data.family_answered),
            ("refused", data.family_refused),
            ("overdue at month end", data.family_overdue),
        ],
    )
    section("Training coverage by organisation", list(data.training_by_org))
    return [line[:110] for line in lines]


def _text_page(lines: list[str]) -> Figure:
    fig = plt.figure(figsize=(8.27, 11.69))  # A4
    fig.text(0.06, 0.96, "\n".join(lines), va="top", ha="left", family="DejaVu Sans Mono", fontsize=8)
    return fig


def pdf(data: MonthlyData) -> bytes:
    """The report as a PDF: summary pages, then one chart per page."""
    buffer = io.BytesIO()
    metadata = {
        "Title": f"Privacy report {data.title} {data.month}",
        "Creator": "piguard",
        "Producer": "piguard",
        "CreationDate": data.end,
        "ModDate": data.end,
    }
    with charts.style(), PdfPages(buffer, metadata=metadata) as pages:
        lines = _summary_lines(data)
        for start in range(0, len(lines), LINES_PER_PAGE):
            fig = _text_page(lines[start : start + LINES_PER_PAGE])
            pages.savefig(fig)
            plt.close(fig)
        for chart in charts.CHARTS:
            fig = chart(data)
            pages.savefig(fig)
            plt.close(fig)
    return buffer.getvalue()


def render(data: MonthlyData, *, fmt: str) -> bytes:
    """The report in ``html`` or ``pdf``."""
    return html(data) if fmt == "html" else pdf(data)
