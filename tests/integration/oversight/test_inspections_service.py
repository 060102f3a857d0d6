"""Rectification follow-up and spot checks through the guarded flows on SQLite and PostgreSQL:
policy, no backdating, no self-verification, overdue escalation, append-only entries, ledger
events with digests, and reproducible samples whose readers come from the ledger."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from piguard.config import Settings
from piguard.errors import AccessDenied, ConflictError, InputError
from piguard.identity import service as identity
from piguard.identity.schemas import Principal
from piguard.ids import new_id
from piguard.interchange.events import AccessEvent
from piguard.keys import ensure_secret, load_secret
from piguard.ledger import service as ledger
from piguard.ledger.keys import ensure_signing_key
from piguard.localtime import beijing_date
from piguard.oversight.common import local_principal
from piguard.oversight.inspections import flows, journal
from piguard.oversight.inspections.models import (
    Recommendation,
    RectificationEvidence,
    RectificationItem,
    SpotCheckItem,
)
from piguard.oversight.inspections.schemas import (
    CorrectionIn,
    EvidenceIn,
    ExtensionIn,
    FindingIn,
    RecommendationIn,
    ReviewIn,
    SpotCheckIn,
)
from piguard.policy.pdp import default_engine
from piguard.records import service as records
from piguard.records.guard import Guard

PASSWORD = "correct horse battery"
DOC = "ab" * 32


@dataclass
class World:
    """Two hospitals, a district and a municipal health commission, inspectors and owners, reports."""

    session: Session
    guard: Guard
    people: dict[str, Principal]
    orgs: dict[str, str]
    reports: list[str]

    def at(self, delta: timedelta) -> Guard:
        """The guard with its clock moved by ``delta`` (server time passes)."""
        assert self.guard.now is not None
        return Guard(
            engine=self.guard.engine, settings=self.guard.settings, secret=self.guard.secret, now=self.guard.now + delta
        )


@pytest.fixture
def world(session: Session, tmp_path: Path) -> World:
    settings = Settings(data_dir=tmp_path / "data")
    ensure_secret(settings)
    ensure_signing_key(settings)
    ledger.bind_settings(session, settings)
    secret = load_secret(settings)
    now = datetime.now(UTC)
    orgs: dict[str, str] = {}
    for key, kind, district, level in (
        ("a", "hospital", "310112", "district"),
        ("b", "hospital", "310115", "district"),
        ("hc", "health_commission", "310112", "district"),
        ("hc_b", "health_commission", "310115", "district"),
        ("city", "health_commission", "310000", "municipal"),
    ):
        orgs[key] = records.create_organisation(
            session=session, name=key, org_type=kind, district=district, level=level
        ).id
    people: dict[str, Principal] = {}
    for who, role, org in (
        ("inspector", "privacy_officer", "hc"),
        ("second", "admin", "city"),
        ("hospital_po", "privacy_officer", "a"),
        ("owner", "physician", "a"),
        ("colleague", "nurse", "a"),
        ("outsider", "physician", "b"),
    ):
        made = identity.create_account(
            session=session,
            secret=secret,
            username=f"{who.replace('_', '.')}.x",
            display_name=who,
            role=role,
            org_id=orgs[org],
            password=PASSWORD,
            demo=True,
        )
        identity.record_training(
            session=session,
            account_id=made.account.id,
            course_code="privacy-basics",
            score=95,
            completed_at=now - timedelta(days=3),
        )
        session.flush()
        people[who] = local_principal(session=session, username=made.account.username)
    reports = []
    for n in range(8):
        report = records.create_report(
            session=session,
            hospital_org_id=orgs["a"],
            subject_id=f"subj-{n}",
            name="李秀英",
            sex="female",
            death_time=now - timedelta(days=2, hours=n),
            place_of_death="hospital",
            district="310112",
            part1=[{"line": "a", "text": "急性心肌梗死", "icd10": "I21.9"}],
        )
        reports.append(report.id)
    session.flush()
    # The server's clock at the time of the requests: after the records were made.
    guard = Guard(engine=default_engine(), settings=settings, secret=secret, now=datetime.now(UTC))
    return World(session, guard, people, orgs, reports)


def _recommend(
    world: World,
    *,
    who: str = "inspector",
    deadline: timedelta = timedelta(days=30),
    source: str = "procuratorial_recommendation",
    issued_on: date | None = None,
    **item: Any,
) -> Any:
    assert world.guard.now is not None
    # One recommendation per reference number: the first of a test is 3号, the next 4号, ...
    number = 3 + (world.session.scalar(select(func.count()).select_from(Recommendation)) or 0)
    data = RecommendationIn.model_validate(
        {
            "source": source,
            "reference_no": f"闵检建〔2025〕{number}号",
            # An internal audit names the audited organisation (hospital "a") as its authority.
            "issuing_authority": "a internal audit office" if source == "internal_audit" else "闵行区人民检察院",
            "issued_on": issued_on or world.guard.now.date() - timedelta(days=1),
            "text": "Restrict cross-hospital queries of death reports and audit them monthly.",
            "items": [
                {
                    "description": "Remove city-wide death report queries from physicians' keys",
                    "owner_org_id": world.orgs["a"],
                    "responsible_id": world.people["owner"].account_id,
                    "deadline": world.guard.now + deadline,
                    "required_evidence": "Screenshot of the role configuration and the change ticket",
                    **item,
                }
            ],
        }
    )
    return flows.create_recommendation(session=world.session, guard=world.guard, principal=world.people[who], data=data)


def _item(world: World, **item: Any) -> str:
    made = _recommend(world, **item).unwrap()
    return str(made.items[0].id)


def _submit(world: World, item_id: str, *, who: str = "owner", guard: Guard | None = None) -> Any:
    return flows.submit_evidence(
        session=world.session,
        guard=guard or world.guard,
        principal=world.people[who],
        item_id=item_id,
        data=EvidenceIn(description="Role configuration export after the change", sha256=DOC),
    )


def _review(
    world: World, item_id: str, evidence_id: str, decision: str, *, who: str, guard: Guard | None = None
) -> Any:
    return flows.review_evidence(
        session=world.session,
        guard=guard or world.guard,
        principal=world.people[who],
        item_id=item_id,
        evidence_id=evidence_id,
        decision=decision,
        data=ReviewIn(reason="checked against the production configuration"),
    )


def _last_event(world: World) -> AccessEvent:
    return list(ledger.iter_events(session=world.session))[-1]


def test_recommendation_creates_items_each_an_event_with_the_entry_digest(world: World) -> None:
    before = ledger.count(session=world.session)
    made = _recommend(world).unwrap()
    assert made.source == "procuratorial_recommendation" and len(made.items) == 1
    item = made.items[0]
    assert item.status == "open" and not item.overdue and item.responsible_id == world.people["owner"].account_id
    events = list(ledger.iter_events(session=world.session))[before:]
    assert [(e.action, e.resource_type) for e in events] == [("create", "recommendation"), ("create", "rectification")]
    row = world.session.get(RectificationItem, item.id)
    assert row is not None and row.ledger_event_id == events[1].event_id
    assert events[1].reason is not None and f"sha256={journal.digest_of(row)}" in events[1].reason
    assert events[1].user_id == world.people["inspector"].account_id


def test_backdated_deadline_is_refused_naming_the_field_and_recorded(world: World) -> None:
    outcome = _recommend(world, deadline=-timedelta(hours=1))
    with pytest.raises(InputError) as caught:
        outcome.unwrap()
    assert caught.value.where == "items[0].deadline" and "backdated" in caught.value.reason
    last = _last_event(world)
    assert last.outcome == "denied" and last.resource_type == "recommendation"
    assert world.session.scalars(select(RectificationItem)).all() == []


def test_only_inspectors_create_and_only_the_responsible_person_submits(world: World) -> None:
    refused = _recommend(world, who="owner")
    with pytest.raises(AccessDenied) as caught:
        refused.unwrap()
    assert "inspectors" in caught.value.reason and _last_event(world).outcome == "denied"
    item_id = _item(world)
    for who in ("colleague", "outsider", "inspector"):
        with pytest.raises(AccessDenied) as denied:
            _submit(world, item_id, who=who).unwrap()
        assert "responsible person" in denied.value.reason
    submitted = _submit(world, item_id).unwrap()
    assert submitted.status == "awaiting_review" and submitted.evidence[0].sha256 == DOC
    event = _last_event(world)
    assert (event.action, event.resource_type, event.resource_id) == ("update", "rectification", item_id)
    # The owner sees their own items only; a colleague sees none.
    mine = flows.list_items(session=world.session, guard=world.guard, principal=world.people["owner"]).unwrap()
    assert [i.id for i in mine] == [item_id]
    with pytest.raises(AccessDenied):
        flows.list_items(session=world.session, guard=world.guard, principal=world.people["colleague"]).unwrap()


def test_submitter_and_owner_cannot_verify_their_own_evidence(world: World) -> None:
    # A hospital privacy officer is an inspector, and here also the item's responsible person (of the
    # hospital's own audit: one issued by an oversight body it could not decide anyway).
    item_id = _item(
        world, who="hospital_po", source="internal_audit", responsible_id=world.people["hospital_po"].account_id
    )
    detail = _submit(world, item_id, who="hospital_po").unwrap()
    evidence_id = detail.evidence[0].id
    with pytest.raises(AccessDenied) as caught:
        _review(world, item_id, evidence_id, "verified", who="hospital_po").unwrap()
    assert "cannot verify or reject it yourself" in caught.value.reason and caught.value.policy_ids == ("own-evidence",)
    assert _last_event(world).outcome == "denied"
    verified = _review(world, item_id, evidence_id, "verified", who="inspector").unwrap()
    assert verified.status == "verified" and verified.verified_at is not None
    with pytest.raises(ConflictError, match="already verified"):
        _review(world, item_id, evidence_id, "rejected", who="second").unwrap()
    with pytest.raises(ConflictError, match="verified and closed"):
        _submit(world, item_id, who="hospital_po").unwrap()


def test_reject_needs_a_reason_and_leaves_the_item_for_resubmission(world: World) -> None:
    item_id = _item(world)
    evidence_id = _submit(world, item_id).unwrap().evidence[0].id
    short = flows.review_evidence(
        session=world.session,
        guard=world.guard,
        principal=world.people["inspector"],
        item_id=item_id,
        evidence_id=evidence_id,
        decision="rejected",
        data=ReviewIn(reason="no"),
    )
    with pytest.raises(InputError) as caught:
        short.unwrap()
    assert caught.value.where == "reason"
    rejected = _review(world, item_id, evidence_id, "rejected", who="inspector").unwrap()
    assert rejected.status == "rejected" and rejected.evidence[0].decision == "rejected"
    corrected = flows.review_evidence(
        session=world.session,
        guard=world.guard,
        principal=world.people["second"],
        item_id=item_id,
        evidence_id=evidence_id,
        decision="verified",
        data=ReviewIn(
            reason="the first review missed the attached ticket", corrects_id=rejected.evidence[0].reviews[0].id
        ),
    ).unwrap()
    assert corrected.status == "verified" and [r.decision for r in corrected.evidence[0].reviews] == [
        "rejected",
        "verified",
    ]


def test_past_deadline_items_are_overdue_and_escalated_to_the_health_commissions(world: World) -> None:
    late_id = _item(world, deadline=timedelta(days=1))
    in_time_id = _item(world, deadline=timedelta(days=1))
    _submit(world, in_time_id).unwrap()
    later = world.at(timedelta(days=3))
    listed = {
        i.id: i for i in flows.list_items(session=world.session, guard=later, principal=world.people["second"]).unwrap()
    }
    late = listed[late_id]
    assert late.status == "overdue" and late.overdue and late.days_overdue == 2
    assert set(late.escalated_to) == {world.orgs["hc"], world.orgs["city"]}  # not the other district's
    assert listed[in_time_id].status == "awaiting_review"  # submitted by the deadline: the inspector owes a verdict
    # The district commission's inspector sees what was escalated to it.
    overdue = flows.list_items(
        session=world.session, guard=later, principal=world.people["inspector"], overdue_only=True
    ).unwrap()
    assert [i.id for i in overdue] == [late_id]
    # Evidence that arrives late does not stop the escalation; a verdict after the deadline does.
    evidence_id = _submit(world, late_id, guard=later).unwrap().evidence[0].id
    assert (
        flows.get_item(session=world.session, guard=later, principal=world.people["owner"], item_id=late_id)
        .unwrap()
        .overdue
    )
    _review(world, in_time_id, _evidence_id(world, in_time_id), "rejected", who="inspector", guard=later).unwrap()
    again = flows.get_item(session=world.session, guard=later, principal=world.people["inspector"], item_id=in_time_id)
    assert again.unwrap().status == "overdue"
    done = _review(world, late_id, evidence_id, "verified", who="inspector", guard=later).unwrap()
    assert done.status == "verified" and not done.escalated_to


def _evidence_id(world: World, item_id: str) -> str:
    return str(
        world.session.scalars(select(RectificationEvidence.id).where(RectificationEvidence.item_id == item_id)).one()
    )


def test_extension_is_a_new_later_entry_with_a_reason(world: World) -> None:
    item_id = _item(world, deadline=timedelta(days=1))
    later = world.at(timedelta(days=2))
    assert (
        flows.get_item(session=world.session, guard=later, principal=world.people["inspector"], item_id=item_id)
        .unwrap()
        .overdue
    )
    assert later.now is not None
    earlier = flows.extend_deadline(
        session=world.session,
        guard=later,
        principal=world.people["inspector"],
        item_id=item_id,
        data=ExtensionIn(deadline=later.now - timedelta(hours=1), reason="the vendor needs more time"),
    )
    with pytest.raises(InputError) as caught:
        earlier.unwrap()
    assert caught.value.where == "deadline"
    extended = flows.extend_deadline(
        session=world.session,
        guard=later,
        principal=world.people["inspector"],
        item_id=item_id,
        data=ExtensionIn(deadline=later.now + timedelta(days=14), reason="the vendor needs more time"),
    ).unwrap()
    assert extended.status == "open" and extended.deadline > extended.original_deadline
    assert extended.extensions[0].reason == "the vendor needs more time"
    refused = flows.extend_deadline(
        session=world.session,
        guard=later,
        principal=world.people["owner"],
        item_id=item_id,
        data=ExtensionIn(deadline=later.now + timedelta(days=60), reason="we would like longer"),
    )
    with pytest.raises(AccessDenied):
        refused.unwrap()


def test_entries_are_append_only_and_corrections_are_new_entries(world: World) -> None:
    made = _recommend(world).unwrap()
    row = world.session.get(RectificationItem, made.items[0].id)
    assert row is not None
    row.description = "quietly changed"
    with pytest.raises(ConflictError, match="append-only"):
        world.session.flush()
    world.session.rollback()


def test_corrections_keep_the_original(world: World) -> None:
    made = _recommend(world).unwrap()
    corrected = flows.correct(
        session=world.session,
        guard=world.guard,
        principal=world.people["inspector"],
        target_type="recommendation",
        target_id=made.id,
        data=CorrectionIn(field="reference_no", value="闵检建〔2025〕4号", reason="typo in the reference number"),
    ).unwrap()
    assert corrected.reference_no == "闵检建〔2025〕4号"
    assert corrected.corrections[0].old_value == "闵检建〔2025〕3号"
    bad = flows.correct(
        session=world.session,
        guard=world.guard,
        principal=world.people["inspector"],
        target_type="rectification",
        target_id=made.items[0].id,
        data=CorrectionIn(field="deadline", value="2030-01-01", reason="sneak a later deadline in"),
    )
    with pytest.raises(InputError) as caught:
        bad.unwrap()
    assert caught.value.where == "field"


def _read_events(
    world: World, report_ids: list[str], *, reader: Principal, outcome: str = "allowed", at: datetime | None = None
) -> None:
    assert world.guard.now is not None
    for report_id in report_ids:
        subject = f"subj-{world.reports.index(report_id)}"
        ledger.append(
            session=world.session,
            event=AccessEvent(
                event_id=new_id(),
                time=at or world.guard.now - timedelta(hours=1),
                user_id=reader.account_id,
                role=reader.role,
                org_id=reader.org_id,
                action="read",
                resource_type="death_report",
                resource_id=report_id,
                subject_id=subject,
                outcome=outcome,  # type: ignore[arg-type]
            ),
        )


def _spot_check(world: World, *, seed: str | None = "2025-06-a", size: int = 3, **extra: Any) -> Any:
    assert world.guard.now is not None
    data = SpotCheckIn.model_validate(
        {
            "title": "Death reports of hospital A last week and their readers",
            "org_id": world.orgs["a"],
            "period_from": world.guard.now.date() - timedelta(days=7),
            "period_to": world.guard.now.date() + timedelta(days=1),
            "size": size,
            "seed": seed,
            **extra,
        }
    )
    return flows.create_spot_check(
        session=world.session, guard=world.guard, principal=world.people["inspector"], data=data
    )


def test_spot_check_sample_is_seeded_reproducible_and_lists_the_readers(world: World) -> None:
    _read_events(world, world.reports, reader=world.people["owner"])
    _read_events(world, world.reports[:4], reader=world.people["outsider"], outcome="denied")
    assert world.guard.now is not None
    colleague = world.people["colleague"]
    ledger.append(
        session=world.session,
        event=AccessEvent(
            event_id=new_id(),
            time=world.guard.now - timedelta(minutes=30),
            user_id=colleague.account_id,
            role=colleague.role,
            org_id=colleague.org_id,
            action="search",
            resource_type="death_report",
            result_count=8,
            result_subject_ids=tuple(f"subj-{n}" for n in range(8)),
        ),
    )
    first = _spot_check(world).unwrap()
    second = _spot_check(world).unwrap()
    sampled = [i.ref_id for i in first.items if i.item_type == "death_report"]
    assert len(sampled) == 3 and set(sampled) <= set(world.reports)
    assert sampled == [i.ref_id for i in second.items if i.item_type == "death_report"]
    assert first.seed == "2025-06-a" and first.population_size == 8 and first.status == "scheduled"
    readers = [i for i in first.items if i.item_type == "reader"]
    assert {r.parent_ref for r in readers} == set(sampled)
    owner_lines = [r for r in readers if r.ref_id == world.people["owner"].account_id]
    assert len(owner_lines) == 3 and all(r.detail["allowed"] == 1 for r in owner_lines)
    assert all(r.detail["denied"] == 1 for r in readers if r.ref_id == world.people["outsider"].account_id)
    listed = [r for r in readers if r.ref_id == colleague.account_id]
    assert len(listed) == 3 and all(r.detail["listed"] == 1 and r.detail["allowed"] == 0 for r in listed)
    other = _spot_check(world, seed="another-seed", size=8).unwrap()
    assert sorted(i.ref_id for i in other.items if i.item_type == "death_report") == sorted(world.reports)
    unseeded = _spot_check(world, seed=None).unwrap()
    assert len(unseeded.seed) == 16  # drawn fresh and recorded
    again = flows.reproduce_spot_check(
        session=world.session, guard=world.guard, principal=world.people["second"], check_id=first.id
    ).unwrap()
    assert again.reproduced and again.population_matches and again.list_matches and again.sample == sampled
    event = _last_event(world)
    assert (event.action, event.resource_type, event.outcome) == ("read", "spot_check", "allowed")
    with pytest.raises(AccessDenied):
        _spot_check_as(world, "owner").unwrap()


def _spot_check_as(world: World, who: str) -> Any:
    data = SpotCheckIn(title="my own check", org_id=world.orgs["a"], size=2)
    return flows.create_spot_check(session=world.session, guard=world.guard, principal=world.people[who], data=data)


def test_account_sample_and_empty_population(world: World) -> None:
    check = _spot_check(world, kind="accounts", size=10, include_readers=False).unwrap()
    names = {i.ref_id for i in check.items}
    assert world.people["owner"].account_id in names and world.people["outsider"].account_id not in names
    assert all(i.item_type == "account" and "reads" in i.detail for i in check.items)
    empty = flows.create_spot_check(
        session=world.session,
        guard=world.guard,
        principal=world.people["second"],  # hospital B is outside the district commission's jurisdiction
        data=SpotCheckIn(title="hospital B", org_id=world.orgs["b"], size=5),
    )
    with pytest.raises(InputError, match="population is empty"):
        empty.unwrap()


def _find(world: World, check_id: str, item_id: str, outcome: str, *, corrects: str | None = None) -> Any:
    return flows.record_finding(
        session=world.session,
        guard=world.guard,
        principal=world.people["inspector"],
        check_id=check_id,
        data=FindingIn(item_id=item_id, outcome=outcome, note=f"looked at it: {outcome}", corrects_id=corrects),  # type: ignore[arg-type]
    )


def test_findings_reinspection_until_closed_as_satisfactory(world: World) -> None:
    check = _spot_check(world, size=2, include_readers=False).unwrap()
    a, b = (i.id for i in check.items)
    assert world.guard.now is not None
    today = beijing_date(world.guard.now)  # the date an inspector types

    def close() -> Any:
        return flows.close_spot_check(
            session=world.session,
            guard=world.guard,
            principal=world.people["inspector"],
            check_id=check.id,
            reason="every sampled record was properly handled",
        )

    def reinspect(when: date) -> Any:
        return flows.schedule_reinspection(
            session=world.session,
            guard=world.guard,
            principal=world.people["second"],
            check_id=check.id,
            scheduled_for=when,
            reason="the certifier's reads need explaining",
        )

    with pytest.raises(ConflictError, match="record this round's findings"):
        reinspect(today + timedelta(days=7)).unwrap()
    first_a = _find(world, check.id, a, "satisfactory").unwrap()
    assert first_a.status == "in_progress"
    with pytest.raises(ConflictError, match="have no finding"):
        close().unwrap()
    found_b = _find(world, check.id, b, "unsatisfactory").unwrap()
    with pytest.raises(ConflictError, match="already has a finding"):
        _find(world, check.id, b, "satisfactory").unwrap()
    with pytest.raises(ConflictError, match="schedule a re-inspection"):
        close().unwrap()
    with pytest.raises(InputError) as past:
        reinspect(today - timedelta(days=1)).unwrap()
    assert past.value.where == "scheduled_for"
    scheduled = reinspect(today + timedelta(days=14)).unwrap()
    assert scheduled.status == "reinspection_scheduled" and scheduled.round == 2
    assert scheduled.next_inspection_on == today + timedelta(days=14)
    second_b = _find(world, check.id, b, "satisfactory").unwrap()
    assert [i.finding_round for i in second_b.items] == [1, 2]
    # A correction is a new entry naming the corrected one.
    wrong = next(f for f in found_b.findings if f.item_id == b)
    corrected = _find(world, check.id, b, "not_applicable", corrects=wrong.id).unwrap()
    assert any(f.corrects_id == wrong.id for f in corrected.findings)
    closed = close().unwrap()
    assert closed.status == "closed" and closed.next_inspection_on is None
    assert [e.kind for e in closed.events] == ["reinspection_scheduled", "closed"]
    with pytest.raises(ConflictError, match="closed"):
        _find(world, check.id, a, "unsatisfactory").unwrap()
    items = world.session.scalars(select(SpotCheckItem).where(SpotCheckItem.check_id == check.id)).all()
    assert len(items) == 2


def test_reproduction_ignores_later_reads_and_detects_a_rewritten_list(world: World) -> None:
    _read_events(world, world.reports, reader=world.people["owner"])
    check = _spot_check(world, size=2).unwrap()
    assert world.guard.now is not None
    # Reads after the draw are not part of this check: the draw is fixed at its server time.
    _read_events(world, world.reports, reader=world.people["colleague"], at=world.guard.now + timedelta(minutes=5))

    def reproduce() -> Any:
        return flows.reproduce_spot_check(
            session=world.session,
            guard=world.at(timedelta(hours=1)),
            principal=world.people["inspector"],
            check_id=check.id,
        ).unwrap()

    assert reproduce().list_matches
    reader = next(i for i in check.items if i.item_type == "reader")
    # Bypassing the ORM's append-only guard is still caught: the list no longer re-derives.
    world.session.execute(update(SpotCheckItem).where(SpotCheckItem.id == reader.id).values(ref_id="someone-else"))
    again = reproduce()
    assert again.reproduced and not again.list_matches


def test_entries_are_checked_against_their_digests_and_ledger_events(world: World) -> None:
    item_id = _item(world)
    _submit(world, item_id).unwrap()
    check = flows.verify_entries(session=world.session, guard=world.guard, principal=world.people["second"])
    assert check.unwrap() == []
    # A change behind the application's back (raw SQL, no ORM guard) is found.
    world.session.execute(
        update(RectificationEvidence).where(RectificationEvidence.item_id == item_id).values(sha256="00" * 32)
    )
    problems = flows.verify_entries(session=world.session, guard=world.guard, principal=world.people["second"])
    found = problems.unwrap()
    assert len(found) == 1 and "oversight_rectification_evidence" in found[0] and "digest differs" in found[0]
    with pytest.raises(AccessDenied):
        flows.verify_entries(session=world.session, guard=world.guard, principal=world.people["owner"]).unwrap()


def test_a_letter_dated_today_in_beijing_is_not_in_the_future(world: World) -> None:
    # 23:30 UTC is 07:30 the next morning in Beijing: a letter dated that morning is today's.
    assert world.guard.now is not None
    moment = datetime.combine(world.guard.now.date(), datetime.min.time(), tzinfo=UTC) + timedelta(hours=23, minutes=30)
    morning = replace(world, guard=replace(world.guard, now=moment))
    made = _recommend(morning, issued_on=moment.date() + timedelta(days=1))
    assert made.error is None, made.error
    tomorrow = _recommend(morning, issued_on=moment.date() + timedelta(days=2))
    assert isinstance(tomorrow.error, InputError) and tomorrow.error.where == "issued_on"
