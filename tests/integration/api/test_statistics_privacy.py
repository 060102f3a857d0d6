"""Death statistics: real ICD-10 chapters, empty cells indistinguishable from small ones, recorded refusals.

An empty cell used to be left out while a cell of 1-4 deaths came back suppressed, so a cell
appearing between two snapshots disclosed a death's district, month and cause chapter; the
chapter was the code's first letter (self-harm and assault made their own "X" cell); a
``context`` was a 422 that reached no ledger; a repeated ``district`` silently used the last one.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta
from itertools import pairwise
from typing import Any

import pytest

from piguard.db import make_session_factory
from piguard.localtime import BEIJING, beijing_date
from piguard.records import service as records
from tests.integration.api.conftest import Site

URL = "/api/v1/statistics/deaths"
CHAPTERS = [
    "I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI",
    "XII", "XIII", "XIV", "XV", "XVI", "XVII", "XVIII", "XIX", "XX", "XXI", "XXII", "uncoded",
]  # fmt: skip


@pytest.mark.parametrize(
    ("code", "chapter"),
    [
        ("A00", "I"), ("B99", "I"), ("C00", "II"), ("D48.9", "II"), ("D49", "II"), ("D50", "III"),
        ("D89", "III"), ("E00", "IV"), ("E90", "IV"), ("F32", "V"), ("G30.9", "VI"), ("H59", "VII"),
        ("H60", "VIII"), ("H95", "VIII"), ("I21.9", "IX"), ("I99", "IX"), ("J00", "X"), ("J18.9", "X"),
        ("K00", "XI"), ("K93", "XI"), ("L89", "XII"), ("M80", "XIII"), ("N18", "XIV"), ("O99", "XV"),
        ("P07", "XVI"), ("P96", "XVI"), ("Q24", "XVII"), ("R99", "XVIII"), ("S06", "XIX"), ("T98", "XIX"),
        ("U07.1", "XXII"), ("U85", "XXII"), ("V01", "XX"), ("V89.2", "XX"), ("W19", "XX"), ("X70", "XX"),
        ("X85", "XX"), ("Y09", "XX"), ("Y98", "XX"), ("Z00", "XXI"), ("Z99", "XXI"), (" i21.9 ", "IX"),
        ("x60", "XX"), ("I219", "IX"), (None, "uncoded"), ("", "uncoded"), ("?", "uncoded"),
        ("21.9", "uncoded"), ("I2", "uncoded"), ("I２１", "uncoded"), ("心梗", "uncoded"),
    ],
)  # fmt: skip
def test_a_code_counts_in_its_who_icd10_chapter(code: str | None, chapter: str) -> None:
    assert records.icd10_chapter(code) == chapter


def add_death(site: Site, *, district: str, when: datetime, line_a: str, underlying: str | None = None) -> None:
    """A certified death (coded when ``underlying`` is given), committed."""
    with make_session_factory(site.engine)() as db, db.begin():
        report = records.create_report(
            session=db,
            hospital_org_id=site.ids["org_a"],
            subject_id=f"subj-{uuid.uuid4().hex}",
            name="周国强",
            sex="male",
            death_time=when,
            place_of_death="hospital",
            district=district,
            part1=[{"line": "a", "text": "死因", "icd10": line_a}],
        )
        records.certify(session=db, report_id=report.id, certifier_id=site.ids["certifier"], at=when)
        if underlying is not None:
            records.report_to_cdc(session=db, report_id=report.id, coder_id="acc-coder", at=when)
            records.code_underlying_cause(
                session=db, report_id=report.id, coder_id="acc-coder", icd10=underlying, at=when
            )


def stats(site: Site, query: str) -> dict[str, Any]:
    response = site.client.get(f"{URL}?purpose=PUBHLTH{query}", headers=site.token("epi"))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def cells_of(body: dict[str, Any]) -> dict[tuple[str, str, str], tuple[int | None, bool]]:
    return {(c["district"], c["month"], c["cause_chapter"]): (c["deaths"], c["suppressed"]) for c in body["cells"]}


def month_of(moment: datetime) -> str:
    return beijing_date(moment).strftime("%Y-%m")


def assert_full_grid(body: dict[str, Any], districts: list[str], last_month: str) -> None:
    """Every chapter of every month from the first to ``last_month``, for each district, in order."""
    months = sorted({c["month"] for c in body["cells"]})
    assert months[-1] == last_month
    for earlier, later in pairwise(months):  # no month left out
        year, month = int(earlier[:4]), int(earlier[5:])
        assert later == (f"{year + 1}-01" if month == 12 else f"{year}-{month + 1:02d}")
    expected = [(d, m, c) for d in districts for m in months for c in CHAPTERS]
    assert [(c["district"], c["month"], c["cause_chapter"]) for c in body["cells"]] == expected


def test_one_more_death_in_an_empty_cell_changes_nothing_a_viewer_sees(site: Site) -> None:
    """The leak: an empty cell was absent, a cell of one death appeared (suppressed) and told of it."""
    now = datetime.now(UTC)
    before = stats(site, "&district=310115")  # no death there yet: a full grid all the same
    assert_full_grid(before, ["310115"], month_of(now))
    assert all(deaths is None and suppressed for deaths, suppressed in cells_of(before).values())
    add_death(site, district="310115", when=now - timedelta(minutes=30), line_a="J18.9")
    assert stats(site, "&district=310115") == before
    city = stats(site, "")
    add_death(site, district="310112", when=now - timedelta(minutes=30), line_a="Q24.9")
    assert stats(site, "") == city
    assert_full_grid(city, sorted({c["district"] for c in city["cells"]}), month_of(now))


def test_self_harm_assault_and_falls_count_in_chapter_xx(site: Site) -> None:
    now = datetime.now(UTC)
    when = now - timedelta(minutes=30)
    for line_a, underlying in (("I46.9", "X70"), ("I46.9", "X70"), ("S06.9", "X85"), ("S06.9", "Y09"), ("W19", None)):
        add_death(site, district="310116", when=when, line_a=line_a, underlying=underlying)
    cells = cells_of(stats(site, "&district=310116"))
    month = month_of(when)
    assert cells[("310116", month, "XX")] == (5, False)
    # The coder's underlying cause counts, not line (a); the letter X is no chapter of its own.
    for chapter in ("IX", "XIX", "X"):
        assert cells[("310116", month, chapter)] == (None, True)
    assert {key[2] for key in cells} == set(CHAPTERS)


def test_closed_only_lists_the_months_that_have_ended(site: Site) -> None:
    now = datetime.now(UTC)
    month_start = datetime.combine(beijing_date(now).replace(day=1), time(12), BEIJING)
    last_month = month_start - timedelta(days=3)
    for _ in range(5):
        add_death(site, district="310117", when=last_month, line_a="C34.9")
    add_death(site, district="310117", when=now, line_a="C34.9")  # this month, even in its first minutes
    closed = stats(site, "&district=310117&closed_only=true")
    assert closed["closed_only"] is True
    assert_full_grid(closed, ["310117"], month_of(last_month))
    assert cells_of(closed)[("310117", month_of(last_month), "II")] == (5, False)
    assert site.last_event().query == "district=310117;closed_only=true"
    current = stats(site, "&district=310117")
    assert current["closed_only"] is False and max(c["month"] for c in current["cells"]) == month_of(now)


def refused(site: Site, query: str) -> tuple[int, str, Any]:
    headers = site.token("epi")
    before = site.events()
    response = site.client.get(f"{URL}{query}", headers=headers)
    assert site.events() == before + 1, "the refusal is one access event"
    event = site.last_event()
    assert (event.action, event.resource_type, event.outcome) == ("read", "statistics", "denied")
    assert event.fields == () and event.result_count is None
    return response.status_code, str(response.json().get("detail", "")), event


def test_the_statistics_screen_is_the_only_context(site: Site) -> None:
    named = stats(site, "&context=cdc_statistics")  # was a 422 "Extra inputs are not permitted"
    assert named["context"] == "cdc_statistics" and site.last_event().outcome == "allowed"
    for context in ("hospital_certifier", "cdc_" + "x" * 5000):
        status, detail, event = refused(site, f"?purpose=PUBHLTH&context={context}")
        assert status == 400 and detail.startswith("context: unknown display context")
        assert event.purpose == "PUBHLTH" and context not in event.reason and context not in detail
    # A bad purpose is refused first, as on every route.
    status, detail, event = refused(site, "?purpose=SELL&context=hospital_certifier")
    assert status == 400 and detail.startswith("purpose:") and event.purpose is None


@pytest.mark.parametrize(
    ("query", "name", "recorded_query"),
    [
        ("district=310112&district=310104", "district", None),
        ("closed_only=true&closed_only=false", "closed_only", None),
        ("context=cdc_statistics&context=cdc_statistics", "context", "district=310112"),
    ],
    ids=["district", "closed_only", "context"],
)
def test_a_repeated_parameter_is_a_recorded_400_naming_it(
    site: Site, query: str, name: str, recorded_query: str | None
) -> None:
    """The last value no longer wins: which cells were asked for is ambiguous, so nothing is read."""
    extra = "&district=310112" if name == "context" else ""
    status, detail, event = refused(site, f"?purpose=PUBHLTH&{query}{extra}")
    assert status == 400 and detail == f"{name}: given more than once; send exactly one value"
    assert event.query == recorded_query and "more than once" in event.reason
