"""Pure inspection rules: reproducible sampling, overdue status, review and spot-check rules."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from piguard.errors import AccessDenied, ConflictError, InputError
from piguard.oversight.inspections import rules, sampling
from piguard.oversight.inspections.rules import EvidenceState

NOW = datetime(2026, 6, 15, 9, 0, tzinfo=UTC)
DEADLINE = NOW + timedelta(days=5)
ids = st.lists(st.text(alphabet="0123456789ABCDEFGHJKMNPQRSTVWXYZ", min_size=4, max_size=26), max_size=60)


# --- sampling -----------------------------------------------------------------------------------


@given(population=ids, seed=st.text(min_size=1, max_size=20), size=st.integers(min_value=0, max_value=80))
def test_same_seed_same_data_same_sample_whatever_the_order(population: list[str], seed: str, size: int) -> None:
    drawn = sampling.draw(population, seed=seed, size=size)
    assert drawn == sampling.draw(list(reversed(population)), seed=seed, size=size)
    assert drawn == sampling.draw(population + population, seed=seed, size=size)  # duplicates do not count twice
    assert len(drawn) == min(size, len(set(population))) and len(set(drawn)) == len(drawn)
    assert set(drawn) <= set(population)


@given(population=ids, seed=st.text(min_size=1, max_size=20), extra=st.text(min_size=30, max_size=30))
def test_a_new_candidate_never_reshuffles_the_others(population: list[str], seed: str, extra: str) -> None:
    before = sampling.draw(population, seed=seed, size=len(population))
    after = sampling.draw([*population, extra], seed=seed, size=len(population) + 1)
    assert [x for x in after if x != extra] == before


def test_the_draw_is_a_fixed_function_of_seed_and_ids() -> None:
    # A recorded vector: any change to the draw (hash, separator, tie-break) breaks old spot checks.
    population = [f"r{n:02d}" for n in range(20)]
    assert sampling.draw(population, seed="2025-06-a", size=3) == ["r13", "r19", "r03"]
    assert (
        sampling.rank("s", "a") == "4cfd2308ceb4735a8ad42eaa0088aa4d3d4344cbcf383ca91963a84ef6526ca2"
    )  # SHA-256(b"s\0a")
    different = {tuple(sampling.draw(population, seed=str(seed), size=3)) for seed in range(20)}
    assert len(different) > 10  # seeds matter


def test_population_digest_ignores_order_and_duplicates() -> None:
    assert sampling.population_digest(["b", "a", "a"]) == sampling.population_digest(["a", "b"])
    assert sampling.population_digest(["a"]) != sampling.population_digest(["a", "b"])
    assert len(sampling.new_seed()) == 16 and sampling.new_seed() != sampling.new_seed()
    with pytest.raises(ValueError, match="negative"):
        sampling.draw(["a"], seed="s", size=-1)


# --- overdue and status -------------------------------------------------------------------------


def test_status_before_the_deadline() -> None:
    assert rules.item_status(deadline=DEADLINE, now=NOW, evidence=[]) == "open"
    pending = EvidenceState(submitted_at=NOW, decision=None)
    assert rules.item_status(deadline=DEADLINE, now=NOW, evidence=[pending]) == "awaiting_review"
    rejected = EvidenceState(submitted_at=NOW, decision="rejected", decided_at=NOW)
    assert rules.item_status(deadline=DEADLINE, now=NOW, evidence=[rejected]) == "rejected"
    verified = EvidenceState(submitted_at=NOW, decision="verified", decided_at=NOW + timedelta(hours=1))
    assert rules.item_status(deadline=DEADLINE, now=NOW, evidence=[rejected, verified]) == "verified"
    assert rules.verified_at([rejected, verified]) == NOW + timedelta(hours=1)


def test_overdue_after_the_deadline_unless_evidence_came_in_time_and_awaits_review() -> None:
    after = DEADLINE + timedelta(days=3, hours=2)
    assert rules.item_status(deadline=DEADLINE, now=after, evidence=[]) == "overdue"
    assert rules.days_overdue(deadline=DEADLINE, now=after) == 3
    assert rules.days_overdue(deadline=DEADLINE, now=NOW) == 0
    in_time = EvidenceState(submitted_at=DEADLINE - timedelta(hours=1), decision=None)
    late = EvidenceState(submitted_at=DEADLINE + timedelta(hours=1), decision=None)
    assert rules.item_status(deadline=DEADLINE, now=after, evidence=[in_time]) == "awaiting_review"
    assert rules.item_status(deadline=DEADLINE, now=after, evidence=[late]) == "overdue"
    rejected = EvidenceState(submitted_at=in_time.submitted_at, decision="rejected", decided_at=after)
    assert rules.item_status(deadline=DEADLINE, now=after, evidence=[rejected]) == "overdue"
    verified_late = EvidenceState(submitted_at=late.submitted_at, decision="verified", decided_at=after)
    assert rules.item_status(deadline=DEADLINE, now=after, evidence=[verified_late]) == "verified"
    # Exactly at the deadline is still in time.
    assert rules.item_status(deadline=DEADLINE, now=DEADLINE, evidence=[]) == "open"


# --- creation and review rules ------------------------------------------------------------------


def test_deadlines_are_not_backdated_and_carry_an_offset() -> None:
    with pytest.raises(InputError) as past:
        rules.check_new_deadline(NOW - timedelta(seconds=1), now=NOW)
    assert past.value.where == "deadline" and "backdated" in past.value.reason
    with pytest.raises(InputError, match="not in the future"):
        rules.check_new_deadline(NOW, now=NOW)
    with pytest.raises(InputError, match="offset"):
        rules.check_new_deadline(datetime(2030, 1, 1), now=NOW)
    rules.check_new_deadline(NOW + timedelta(minutes=1), now=NOW)


def test_extensions_only_move_an_open_deadline_later() -> None:
    rules.check_extension(DEADLINE + timedelta(days=1), current=DEADLINE, now=NOW, verified=False)
    with pytest.raises(InputError, match="later than the current"):
        rules.check_extension(DEADLINE - timedelta(days=1), current=DEADLINE, now=NOW, verified=False)
    with pytest.raises(ConflictError, match="verified"):
        rules.check_extension(DEADLINE + timedelta(days=1), current=DEADLINE, now=NOW, verified=True)


def _review(**overrides: object) -> None:
    values: dict[str, object] = {
        "decision": "verified",
        "reviewer_id": "inspector",
        "submitter_id": "owner",
        "responsible_id": "owner",
        "current": None,
        "correcting": False,
        "item_verified_by_other": False,
        **overrides,
    }
    rules.check_review(**values)  # type: ignore[arg-type]


def test_nobody_verifies_their_own_evidence_or_their_own_item() -> None:
    _review()
    with pytest.raises(AccessDenied) as own:
        _review(reviewer_id="owner")
    assert own.value.policy_ids == (rules.OWN_EVIDENCE,) and "yourself" in own.value.reason
    with pytest.raises(AccessDenied, match="responsible"):
        _review(reviewer_id="boss", submitter_id="deputy", responsible_id="boss")
    with pytest.raises(ConflictError, match="already rejected"):
        _review(current="rejected")
    _review(current="rejected", correcting=True)
    with pytest.raises(ConflictError, match="nothing to correct"):
        _review(correcting=True)
    with pytest.raises(InputError) as bad:
        _review(decision="approved")
    assert bad.value.where == "decision"


def test_reasons_are_required() -> None:
    with pytest.raises(InputError) as short:
        rules.require_reason("  ok  ")
    assert short.value.where == "reason"
    assert rules.require_reason("  checked the configuration  ") == "checked the configuration"
    with pytest.raises(InputError, match="future"):
        rules.check_issued_on(date(2030, 1, 1), today=NOW.date())
    with pytest.raises(InputError) as source:
        rules.check_source("rumour")
    assert source.value.where == "source"
    with pytest.raises(InputError) as neither:
        rules.check_evidence(sha256=None, reference="  ", verified=False)
    assert neither.value.where == "sha256"


# --- spot checks --------------------------------------------------------------------------------


def test_spot_check_rounds_close_only_when_satisfactory() -> None:
    with pytest.raises(InputError) as size:
        rules.check_sample(size=0, kind="records", period=None, today=NOW.date())
    assert size.value.where == "size"
    with pytest.raises(InputError) as period:
        rules.check_sample(size=5, kind="records", period=(date(2026, 6, 2), date(2026, 6, 1)), today=NOW.date())
    assert period.value.where == "period_to"
    with pytest.raises(InputError) as past:
        rules.check_inspection_date(NOW.date() - timedelta(days=1), today=NOW.date(), where="scheduled_for")
    assert past.value.where == "scheduled_for"
    with pytest.raises(ConflictError, match="findings before"):
        rules.check_reinspection(closed=False, findings_this_round=0, unsatisfactory=0)
    with pytest.raises(ConflictError, match="close the check instead"):
        rules.check_reinspection(closed=False, findings_this_round=2, unsatisfactory=0)
    rules.check_reinspection(closed=False, findings_this_round=2, unsatisfactory=1)
    with pytest.raises(ConflictError, match="no finding yet"):
        rules.check_close(closed=False, items=3, without_finding=1, unsatisfactory=0)
    with pytest.raises(ConflictError, match="re-inspection"):
        rules.check_close(closed=False, items=3, without_finding=0, unsatisfactory=1)
    rules.check_close(closed=False, items=3, without_finding=0, unsatisfactory=0)
    with pytest.raises(ConflictError, match="already closed"):
        rules.check_close(closed=True, items=3, without_finding=0, unsatisfactory=0)
    with pytest.raises(ConflictError, match="final"):
        rules.check_finding(outcome="satisfactory", closed=True)
