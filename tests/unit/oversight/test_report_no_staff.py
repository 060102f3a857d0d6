"""A month with no staff says so: training coverage is "no staff", never "100.0% (0/0)" (HTML, PDF, CLI)."""

from __future__ import annotations

import dataclasses

from piguard.oversight.reports import render
from piguard.oversight.reports.data import coverage_text
from tests.unit.oversight.test_report_render import sample


def test_coverage_of_nobody_is_no_staff() -> None:
    assert coverage_text(0, 0) == "no staff"
    assert coverage_text(9, 10) == "90.0% (9/10)"
    empty = dataclasses.replace(sample(), staff=0, trained=0, training_by_org=[])
    assert empty.training_coverage == "no staff"
    page = render.html(empty).decode("utf-8")
    assert "no staff" in page and "100.0%" not in page and "(0/0)" not in page
    lines = render._summary_lines(empty)  # the PDF's summary page
    coverage = next(line for line in lines if line.startswith("Training coverage"))
    assert coverage.endswith("no staff") and "%" not in coverage
    assert render.pdf(empty).startswith(b"%PDF")  # the chart draws no bar for it
    staffed = render._summary_lines(sample())
    assert any(line.startswith("Training coverage") and line.endswith("90.0% (9/10)") for line in staffed)
