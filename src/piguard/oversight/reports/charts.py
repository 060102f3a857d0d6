"""The report's charts (matplotlib, Agg), drawn identically for the same data.

SVG output is made reproducible with a fixed ``svg.hashsalt`` (element ids) and no ``Date``
metadata; the PDF pages get fixed creation and modification dates from the report month.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display: reports are rendered on servers

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from piguard.oversight.reports.data import MonthlyData

RC: dict[str, Any] = {
    "svg.hashsalt": "piguard-report",
    "svg.fonttype": "path",  # glyphs as paths: the SVG does not depend on the viewer's fonts
    "pdf.fonttype": 42,
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
}
ACCESS, DENIED, OTHER = "#2b6cb0", "#c53030", "#718096"
# CJK fallbacks are used when installed; naming a missing one makes matplotlib log every glyph.
FONTS = ("DejaVu Sans", "Noto Sans CJK SC", "Noto Sans SC", "WenQuanYi Zen Hei", "Source Han Sans SC")


def _families() -> list[str]:
    from matplotlib import font_manager

    installed = {font.name for font in font_manager.fontManager.ttflist}
    return [name for name in FONTS if name in installed] or ["DejaVu Sans"]


@contextmanager
def style() -> Iterator[None]:
    """Fixed matplotlib settings; glyphs a font lacks (e.g. CJK without a CJK font) are drawn as boxes."""
    settings: Any = {**RC, "font.family": _families()}  # matplotlib types keys as a Literal union
    with matplotlib.rc_context(settings), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .* missing from font")
        warnings.filterwarnings("ignore", message=r"findfont")
        yield


def daily(data: MonthlyData) -> Figure:
    """Accesses and denials per day of the month."""
    fig, ax = plt.subplots(figsize=(7.5, 2.6))
    days = [d for d, _, _ in data.daily]
    ax.bar(days, [a for _, a, _ in data.daily], color=ACCESS, label="accesses")
    ax.bar(days, [d for _, _, d in data.daily], color=DENIED, label="denials", bottom=[a for _, a, _ in data.daily])
    ax.set_xlabel("day of month")
    ax.set_ylabel("events")
    ax.set_xlim(0.4, len(days) + 0.6)
    ax.set_title(f"Accesses and denials per day, {data.month}")
    ax.legend(loc="upper right", frameon=False)
    fig.tight_layout()
    return fig


def roles(data: MonthlyData) -> Figure:
    """Accesses and denials by role."""
    fig, ax = plt.subplots(figsize=(7.5, 2.6))
    names = [r for r, _, _ in data.by_role] or ["(none)"]
    positions = list(range(len(names)))
    ax.barh(positions, [a for _, a, _ in data.by_role] or [0], color=ACCESS, label="accesses")
    ax.barh(
        positions,
        [d for _, _, d in data.by_role] or [0],
        left=[a for _, a, _ in data.by_role] or [0],
        color=DENIED,
        label="denials",
    )
    ax.set_yticks(positions, names)
    ax.invert_yaxis()
    ax.set_title("By role")
    ax.legend(loc="lower right", frameon=False)
    fig.tight_layout()
    return fig


def rectification(data: MonthlyData) -> Figure:
    """Rectification items by status at the end of the month."""
    fig, ax = plt.subplots(figsize=(7.5, 2.2))
    names = [s for s, _ in data.rectification]
    colours = [DENIED if s in ("overdue", "rejected") else ACCESS if s == "verified" else OTHER for s in names]
    ax.bar(names, [c for _, c in data.rectification], color=colours)
    ax.set_title("Rectification items by status (end of month)")
    fig.tight_layout()
    return fig


def training(data: MonthlyData) -> Figure:
    """Share of staff with valid mandatory training, per organisation."""
    rows = data.training_by_org or [(data.title, data.trained, data.staff)]
    fig, ax = plt.subplots(figsize=(7.5, max(1.6, 0.28 * len(rows) + 0.9)))
    # An organisation with no staff has no share: no bar, and "no staff" in its label.
    shares = [100.0 * t / s if s else 0.0 for _, t, s in rows]
    positions = list(range(len(rows)))
    ax.barh(positions, shares, color=[ACCESS if v >= 95 else DENIED for v in shares])
    ax.set_yticks(positions, [name[:40] + ("" if s else " (no staff)") for name, _, s in rows])
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("% of staff with valid mandatory training")
    ax.set_title("Training coverage (end of month)")
    fig.tight_layout()
    return fig


CHARTS = (daily, roles, rectification, training)


def svg(fig: Figure) -> str:
    """The figure as an inline SVG element (no XML prolog, no date), and the figure closed."""
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": "piguard"})
    plt.close(fig)
    text = buffer.getvalue()
    return text[text.index("<svg") :]
