"""Input rules on their own: a report month is ASCII ``YYYY-MM`` in a representable range, a reason
has at most 1000 characters, and the event ids evidence cites look like event ids."""

from __future__ import annotations

from datetime import datetime

import pytest
from pydantic import ValidationError

from piguard.errors import InputError
from piguard.localtime import BEIJING
from piguard.oversight.cases import rules
from piguard.oversight.cases.schemas import AlertIn, EvidenceIn
from piguard.oversight.reports.data import month_bounds

REASON = "signed notes attach"


@pytest.mark.parametrize("month", ["0000-01", "9999-12", "1999-12", "２０２６-11", "٢٠٢٥-03", "2025-3", "2025-03\n"])
def test_a_month_out_of_range_or_not_in_ascii_digits_is_bad_input_naming_month(month: str) -> None:
    with pytest.raises(InputError) as refused:
        month_bounds(month)
    assert refused.value.where == "month"


def test_the_months_at_the_ends_of_the_range_have_bounds() -> None:
    assert month_bounds("2000-01") == (datetime(2000, 1, 1, tzinfo=BEIJING), datetime(2000, 2, 1, tzinfo=BEIJING))
    assert month_bounds("9998-12") == (datetime(9998, 12, 1, tzinfo=BEIJING), datetime(9999, 1, 1, tzinfo=BEIJING))


def test_a_reason_has_at_most_1000_characters() -> None:
    assert rules.require_reason(" " + "r" * 1000 + " ") == "r" * 1000
    with pytest.raises(InputError, match="at most 1000") as refused:
        rules.require_reason("r" * 1001)
    assert refused.value.where == "reason"


@pytest.mark.parametrize("event_id", ["", "   ", "e" * 129, "e" * 5000, "01J\n1", "ab\x00cd", "tab\there"])
def test_an_evidence_event_id_that_is_not_one_is_refused_naming_its_place(event_id: str) -> None:
    with pytest.raises(ValidationError) as refused:
        EvidenceIn(kind="alert", reference="AL1", event_ids=["01JABCDEF", event_id], reason=REASON)
    assert refused.value.errors()[0]["loc"] == ("event_ids", 1)


def test_event_ids_as_piguard_and_other_systems_issue_them_are_kept() -> None:
    item = EvidenceIn(
        kind="alert", reference="AL1", event_ids=["01JABCDEFGHJKMNPQRSTVWXYZ0", "his-7781"], reason=REASON
    )
    assert item.event_ids == ["01JABCDEFGHJKMNPQRSTVWXYZ0", "his-7781"]
    assert EvidenceIn(kind="ledger_event", reference="e" * 128, reason=REASON).reference == "e" * 128


def test_a_ledger_event_cited_by_reference_is_an_event_id() -> None:
    with pytest.raises(ValidationError) as refused:
        EvidenceIn(kind="ledger_event", reference="e" * 129, reason=REASON)
    assert refused.value.errors()[0]["loc"] == ("reference",)
    # Other kinds name a document or bundle, which may be longer.
    assert EvidenceIn(kind="document", reference="n" * 300, sha256="a" * 64, reason=REASON).reference == "n" * 300


def test_an_alert_s_event_ids_are_checked_when_the_case_is_opened_not_later() -> None:
    with pytest.raises(ValidationError) as refused:
        AlertIn(alert_id="AL1", user_id="u1", reasons=[{"detector": "volume", "event_ids": [""]}])
    assert refused.value.errors()[0]["loc"] == ("reasons", 0, "event_ids", 0)
