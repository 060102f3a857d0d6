"""Report rendering without a database: month bounds, escaping, identical bytes for the same data."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from piguard.errors import InputError
from piguard.localtime import BEIJING
from piguard.oversight.reports import render
from piguard.oversight.reports.data import MonthlyData, OverdueItem, month_bounds


def test_month_bounds() -> None:
    assert month_bounds("2024-02") == (datetime(2024, 2, 1, tzinfo=BEIJING), datetime(2024, 3, 1, tzinfo=BEIJING))
    assert month_bounds("2024-12")[1] == datetime(2025, 1, 1, tzinfo=BEIJING)
    for bad in ("2024-13", "2024-1", "24-01", "2024-00", "march"):
        with pytest.raises(InputError) as caught:
            month_bounds(bad)
        assert caught.value.where == "month"


def sample(title: str = "闵行区中心医院 <b>") -> MonthlyData:
    start, end = month_bounds("2025-02")
    return MonthlyData(
        month="2025-02",
        start=start,
        end=end,
        org_id="org-1",
        title=title,
        accesses=12,
        denials=3,
        breakglass=1,
        daily=[(day, day % 3, day % 2) for day in range(1, 29)],
        by_role=[("nurse", 2, 0), ("physician", 10, 3)],
        denial_reasons=[("training-gate: mandatory privacy training has lapsed", 3)],
        breakglass_users=[("acc-1", 1)],
        cases_opened=2,
        cases_by_state=[("investigating", 2)],
        dispositions=[("warning", 1)],
        rectification=[("open", 1), ("awaiting_review", 0), ("rejected", 0), ("overdue", 1), ("verified", 2)],
        overdue=[
            OverdueItem("闵检建〔2025〕3号", 1, "<script>x</script>", "org", datetime(2025, 2, 10, tzinfo=UTC), 18)
        ],
        staff=10,
        trained=9,
        training_by_org=[("闵行区中心医院", 9, 10)],
    )


def test_html_is_escaped_and_embeds_svg_charts() -> None:
    page = render.html(sample()).decode("utf-8")
    assert page.count("<svg") == 4
    assert "<script>x</script>" not in page and "&lt;script&gt;" in page
    assert "闵行区中心医院 &lt;b&gt;" in page
    assert "90.0%" in page  # training coverage


@pytest.mark.parametrize("fmt", render.FORMATS)
def test_same_data_same_bytes(fmt: str) -> None:
    first, second = render.render(sample(), fmt=fmt), render.render(sample(), fmt=fmt)
    assert first == second
    assert render.render(sample("another title"), fmt=fmt) != first


def test_pdf_dates_come_from_the_month() -> None:
    pdf = render.pdf(sample())
    assert pdf.startswith(b"%PDF") and b"D:20250301000000" in pdf
