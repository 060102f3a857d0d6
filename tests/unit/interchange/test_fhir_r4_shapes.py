"""R4 AuditEvent shapes the FHIR mapping must read: Coding roles, versioned and absolute references."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from piguard.errors import InterchangeError
from piguard.interchange.events import AccessEvent
from piguard.interchange.fhir import read_fhir_bundle

OBJECT_ROLE = "http://terminology.hl7.org/CodeSystem/object-role"
ENTITY_TYPE = "http://terminology.hl7.org/CodeSystem/audit-entity-type"


def _event(*entities: dict[str, Any], event_id: str = "ae1") -> dict[str, Any]:
    return {
        "resourceType": "AuditEvent",
        "id": event_id,
        "type": {"system": "http://terminology.hl7.org/CodeSystem/audit-event-type", "code": "rest"},
        "action": "R",
        "recorded": "2025-03-05T22:30:00+08:00",
        "outcome": "0",
        "agent": [
            {"role": [{"coding": [{"code": "nurse"}]}], "who": {"identifier": {"value": "hB-n1"}}, "requestor": True},
            {"who": {"reference": "Organization/org-hB"}, "requestor": False},
        ],
        "entity": list(entities),
    }


def _read(tmp_path: Path, *resources: dict[str, Any]) -> list[AccessEvent]:
    path = tmp_path / "audit.fhir.json"
    entries = [{"fullUrl": f"urn:uuid:{i}", "resource": r} for i, r in enumerate(resources)]
    path.write_text(json.dumps({"resourceType": "Bundle", "type": "collection", "entry": entries}), encoding="utf-8")
    return list(read_fhir_bundle(path))


def test_an_r4_coding_role_1_names_the_patient_by_identifier(tmp_path: Path) -> None:
    patient = {"what": {"identifier": {"value": "P000505"}}, "role": {"system": OBJECT_ROLE, "code": "1"}}
    [event] = _read(tmp_path, _event(patient, {"what": {"reference": "DocumentReference/rep-P000505"}}))
    assert event.subject_id == "P000505"
    assert (event.resource_type, event.resource_id) == ("documentreference", "rep-P000505")


def test_an_r4_coding_role_1_names_the_patient_of_a_non_patient_reference(tmp_path: Path) -> None:
    patient = {"what": {"reference": "Person/PX1"}, "role": {"system": OBJECT_ROLE, "code": "1"}}
    [event] = _read(tmp_path, _event(patient))
    assert event.subject_id == "PX1"
    assert event.resource_type is None


def test_a_codeable_concept_role_1_is_read_as_well(tmp_path: Path) -> None:
    patient = {"what": {"identifier": {"value": "P7"}}, "role": {"coding": [{"system": OBJECT_ROLE, "code": "1"}]}}
    [event] = _read(tmp_path, _event(patient))
    assert event.subject_id == "P7"


def test_an_identifier_without_the_patient_role_is_not_taken_for_the_patient(tmp_path: Path) -> None:
    other = {"what": {"identifier": {"value": "X1"}}, "role": {"system": OBJECT_ROLE, "code": "4"}}
    [event] = _read(tmp_path, _event(other))
    assert event.subject_id is None


def test_a_versioned_reference_drops_its_history(tmp_path: Path) -> None:
    patient = {"what": {"reference": "Patient/P000500/_history/3"}, "type": {"system": ENTITY_TYPE, "code": "1"}}
    report = {"what": {"reference": "DocumentReference/rep-P000500/_history/7"}}
    [event] = _read(tmp_path, _event(patient, report))
    assert event.subject_id == "P000500"
    assert (event.resource_type, event.resource_id) == ("documentreference", "rep-P000500")


@pytest.mark.parametrize(
    "reference",
    ["https://host/fhir/Patient/P1", "https://host/fhir/Patient/P1/", "https://host/fhir/Patient/P1/_history/2"],
)
def test_an_absolute_reference_names_its_type_and_id(tmp_path: Path, reference: str) -> None:
    [event] = _read(tmp_path, _event({"what": {"reference": reference}}))
    assert event.subject_id == "P1"


def test_an_r4_coding_session_entity_gives_the_session(tmp_path: Path) -> None:
    session = {"type": {"system": "urn:example", "code": "session"}, "name": "S-42"}
    [event] = _read(tmp_path, _event({"what": {"reference": "Patient/P1"}}, session))
    assert event.session_id == "S-42"


def test_a_codeable_concept_session_entity_gives_the_session(tmp_path: Path) -> None:
    session = {"type": {"coding": [{"code": "session"}]}, "name": "S-43"}
    [event] = _read(tmp_path, _event({"what": {"reference": "Patient/P1"}}, session))
    assert event.session_id == "S-43"


def test_an_unmappable_entry_is_still_named(tmp_path: Path) -> None:
    good = _event({"what": {"reference": "Patient/P1/_history/1"}})
    bad = _event({"what": {"reference": "Patient/P2"}}, event_id="ae2")
    bad["recorded"] = "2025-03-05T22:30:00"  # no offset
    with pytest.raises(InterchangeError) as info:
        _read(tmp_path, good, bad)
    assert "#entry[1]" in str(info.value)
