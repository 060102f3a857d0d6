"""The account as the family receives it: one self-contained HTML page with a chart, or JSON.

Same account, same bytes: the chart is drawn with the reports' fixed settings and the page
carries no generation time other than the account's own ``until``.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import jinja2
import matplotlib.pyplot as plt
import rfc8785
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from piguard.oversight.family.schemas import DisclosureAccount
from piguard.oversight.reports import charts
from piguard.oversight.reports.render import html_table

FORMATS = ("html", "json")

_TEMPLATE = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined).from_string(
    """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Account of accesses (访问记录告知) — {{ a.deceased_name }}</title>
<style>
body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;color:#1a202c}
table{border-collapse:collapse;margin:.5rem 0 1rem}td,th{border:1px solid #cbd5e0;padding:.2rem .5rem;text-align:left}
td.n{text-align:right}.kpi{display:flex;gap:1rem;flex-wrap:wrap}.kpi div{border:1px solid #cbd5e0;padding:.5rem 1rem}
.kpi b{display:block;font-size:1.6rem}figure{margin:0}code{word-break:break-all}
</style></head><body>
<h1>Account of accesses to the records of {{ a.deceased_name }}</h1>
<p>Prepared for {{ a.requester_name }} ({{ a.relationship }} of the deceased) at their request under Article 49
of the Personal Information Protection Law. It lists every access to {{ a.deceased_name }}'s death report, the
ambulance call and the relatives' contact details recorded from {{ a.since.date() }}
to {{ a.until.isoformat(timespec="seconds") }}, including attempts that were refused (times with their UTC
offset). Staff are shown by organisation and role; "staff 1", "staff 2" and so on are the same person
throughout this account.</p>
<section class="kpi">
<div><b>{{ a.accesses }}</b>accesses</div><div><b>{{ a.denied }}</b>refused attempts</div>
<div><b>{{ a.contact_disclosures }}</b>showed relatives' phone numbers</div>
<div><b>{{ a.by_organisation|length }}</b>organisations</div>
<div><b>{{ a.emergency_uses|length }}</b>emergency (break-glass) uses</div>
</section>
<h2>When</h2>
<figure>{{ chart|safe }}</figure>
<h2>By organisation</h2>
{{ table(["organisation", "type", "accesses", "refused"], organisations) }}
<h2>Emergency access</h2>
<p>Emergency ("break-glass") access bypasses the usual need-to-know rules for one hour and is always reviewed.</p>
{{ table(["granted", "organisation", "role", "staff", "review"], emergency) }}
<h2>Investigations</h2>
<p>Investigations by the privacy office concerning this record (their findings are not part of this account).</p>
{{ table(["opened", "state"], investigations) }}
<h2>Every access</h2>
{{ table(["time", "organisation", "role", "staff", "action", "record", "information shown", "purpose",
          "outcome", "ledger #"], lines) }}
<h2>How to check this account</h2>
<p>Each line is an entry of piguard's tamper-evident access ledger (an RFC 9162 Merkle log). The account was
read against the signed checkpoint below; the privacy office can produce, for any line, a proof that it is in
that log, verifiable without trusting piguard. Request id <code>{{ a.request_id }}</code>.</p>
<pre>{{ a.ledger.note }}</pre>
</body></html>
"""
)


def daily(account: DisclosureAccount) -> Figure:
    """Accesses and refused attempts per day, from the first to the last recorded one."""
    allowed: Counter[date] = Counter()
    refused: Counter[date] = Counter()
    for line in account.lines:
        (allowed if line.outcome == "allowed" else refused)[line.time.date()] += 1
    days = sorted(set(allowed) | set(refused))
    if days:
        span = (days[-1] - days[0]).days
        days = [days[0] + timedelta(days=n) for n in range(span + 1)]
    fig, ax = plt.subplots(figsize=(7.5, 2.4))
    positions = list(range(len(days)))
    ax.bar(positions, [allowed[d] for d in days], color=charts.ACCESS, label="accesses")
    ax.bar(
        positions,
        [refused[d] for d in days],
        bottom=[allowed[d] for d in days],
        color=charts.DENIED,
        label="refused",
    )
    step = max(1, len(days) // 6)
    ax.set_xticks(positions[::step], [d.isoformat() for d in days[::step]], rotation=30, ha="right")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel("events")
    ax.set_title("Accesses per day")
    ax.legend(loc="upper right", frameon=False)
    fig.tight_layout()
    return fig


def html(account: DisclosureAccount) -> bytes:
    """The account as one self-contained HTML page."""
    with charts.style():
        chart = charts.svg(daily(account))
    text = _TEMPLATE.render(
        a=account,
        chart=chart,
        table=html_table,
        organisations=[(o.organisation, o.organisation_type, o.allowed, o.denied) for o in account.by_organisation],
        emergency=[
            (e.granted_at.isoformat(timespec="seconds"), e.organisation, e.role, e.staff, e.review)
            for e in account.emergency_uses
        ],
        investigations=[(i.opened_at.date().isoformat(), i.state) for i in account.investigations],
        lines=[
            (
                line.time.isoformat(timespec="seconds"),
                line.organisation,
                line.role,
                line.staff,
                line.action,
                line.record,
                ", ".join(line.disclosed) or "-",
                line.purpose_meaning or line.purpose or "-",
                line.outcome,
                line.ledger_index,
            )
            for line in account.lines
        ],
    )
    return text.encode("utf-8")


def as_json(account: DisclosureAccount) -> bytes:
    """The account as canonical JSON (RFC 8785), the bytes whose SHA-256 the request keeps."""
    return bytes(rfc8785.dumps(account.model_dump(mode="json")))


def render(account: DisclosureAccount, fmt: str) -> bytes:
    """The account in one of ``FORMATS``."""
    if fmt == "json":
        return as_json(account)
    return html(account)
