"""The HTML alert report: per alert, the reasons and a timeline chart of the user's accesses.

Self-contained (inline CSS and SVG, no scripts or remote assets), so it can be mailed or
archived with a case. Jinja2 autoescaping protects against hostile ids in the input.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from html import escape

from jinja2 import Environment, select_autoescape

from piguard.detect.pipeline import DetectionRun
from piguard.detect.zones import zone_label

_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>piguard alerts</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em;max-width:70em;color:#222}
.alert{border:1px solid #ccc;border-radius:6px;padding:1em;margin:1em 0}
.high{border-left:8px solid #b00}.medium{border-left:8px solid #e80}.low{border-left:8px solid #999}
.meta{color:#555;font-size:.9em}.notice{background:#f6f6f6;padding:.6em;font-size:.9em}
svg text{font-size:10px;fill:#555}
</style></head><body>
<h1>piguard alerts</h1>
<p class="meta">Generated {{ report.generated_at.astimezone(tz).isoformat(timespec="seconds") }} by the
{{ report.engine }} engine from {{ report.events_read }} events; {% if accesses -%}
{{ "%.1f"|format(report.explained_fraction * 100) }}% of {{ accesses }} record accesses explained by a
relationship{% else %}no record accesses to explain{% endif %};
{{ report.alerts|length }} alert(s){% if report.events_invalid %};
{{ report.events_invalid }} invalid events quarantined{% endif %}{% if report.events_before_since %};
{{ report.events_before_since }} events before --since{% endif %} ({{ report.input_rows }} rows read).
{% for action, n in service_actions.items() %}{{ n }} event(s) of piguard's own action {{ action }} (not in
FORMATS.md §1) were read. {% endfor %}Times are shown in {{ zone }}.</p>
{% for a in report.alerts %}
<div class="alert {{ a.severity }}">
<h2>{{ loop.index }}. {{ a.user_id }}
<span class="meta">score {{ "%.3f"|format(a.score) }}, {{ a.severity }}</span></h2>
<p class="meta">{{ a.first_event_time.astimezone(tz).isoformat(timespec="minutes") }} to
{{ a.last_event_time.astimezone(tz).isoformat(timespec="minutes") }};
{{ a.subject_ids|length }} record(s) involved</p>
<ul>{% for r in a.reasons %}<li><b>{{ r.detector }}</b>: {{ r.text }}
<span class="meta">(evidence: {{ r.event_ids|length }} event(s), first {{ r.event_ids[:3]|join(", ") }})</span></li>
{% endfor %}</ul>
{{ charts[a.user_id]|safe }}
{% if a.notice %}<p class="notice"><b>Warning notice to the user:</b> {{ a.notice }}</p>{% endif %}
</div>
{% else %}<p>No alerts.</p>{% endfor %}
</body></html>
"""

WIDTH, HEIGHT, PAD = 900, 120, 30


@dataclass(frozen=True, slots=True)
class _Mark:
    x: float
    y: float
    colour: str


def timeline_svg(points: list[tuple[datetime, int]], flagged: list[datetime], tz: tzinfo = UTC) -> str:
    """An SVG strip chart: the user's accesses per day (grey explained, blue unexplained), red flags.

    Days and hours of day are those of ``tz`` (the events' own offset), as the user lived them.
    """
    if not points and not flagged:
        return ""
    times = [t.astimezone(tz) for t, _ in points] + [t.astimezone(tz) for t in flagged]
    points = [(t.astimezone(tz), explained) for t, explained in points]
    flagged = [t.astimezone(tz) for t in flagged]
    lo, hi = min(times), max(times)
    span = max((hi - lo).total_seconds(), 3600.0)

    def x(t: datetime) -> float:
        return PAD + (WIDTH - 2 * PAD) * (t - lo).total_seconds() / span

    def y(t: datetime) -> float:
        # Time of day on the vertical axis: night-time browsing stands out.
        return 10 + (HEIGHT - 30) * (t.hour * 60 + t.minute) / 1440

    marks = [_Mark(x(t), y(t), "#999" if explained else "#36c") for t, explained in points]
    marks += [_Mark(x(t), y(t), "#c00") for t in flagged]
    circles = "".join(f'<circle cx="{m.x:.1f}" cy="{m.y:.1f}" r="2.5" fill="{m.colour}" />' for m in marks)
    axis = (f'<line x1="{PAD}" y1="{HEIGHT - 18}" x2="{WIDTH - PAD}" y2="{HEIGHT - 18}" stroke="#ccc"/>'
            f'<text x="{PAD}" y="{HEIGHT - 4}">{lo.date().isoformat()}</text>'
            f'<text x="{WIDTH - PAD - 60}" y="{HEIGHT - 4}">{hi.date().isoformat()}</text>'
            '<text x="2" y="14">00h</text><text x="2" y="98">24h</text>')
    zone = escape(zone_label(tz))
    title = (f"<title>Accesses over time (x) by time of day in {zone} (y): grey explained, blue unexplained, "
             "red flagged</title>")
    return f'<svg width="{WIDTH}" height="{HEIGHT}" role="img">{title}{axis}{circles}</svg>'


def render_html(run: DetectionRun) -> str:
    """The report as one self-contained HTML page."""
    charts: dict[str, str] = {}
    for alert in run.report.alerts:
        flagged = sorted({t for f in run.findings.get(alert.user_id, []) for t in f.event_times})
        charts[alert.user_id] = timeline_svg(run.timelines.get(alert.user_id, []), flagged, run.display.tz)
    env = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
    return env.from_string(_TEMPLATE).render(
        report=run.report, charts=charts, tz=run.display.tz, zone=run.display.label,
        accesses=run.record_accesses, service_actions=run.service_actions,
    )
