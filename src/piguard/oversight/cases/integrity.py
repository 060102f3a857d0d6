"""What a case history entry's digest covers, and checking a case against the digests in the ledger.

Digest version 2 (``"v": 2`` inside the digested JSON) binds, besides the entry itself, the
content of the thing the entry created: the case's own fields for ``opened``, the subject row for
``subject_added``, the evidence row for ``evidence_added``, the proposal for
``disposition_proposed`` and the decision for ``disposition_approved``/``_rejected``. Entries
recorded before it (version 1, no ``v``) digest the entry only; they still verify by the old rule,
and their linked rows are then checked only through the entry's ``ref_id``.

The same check runs on a case read from the database (``piguard cases check``) and on the
``case.json`` of an exported bundle (``piguard audit verify-evidence``): either way the anchor is
the digest in the ledger event, never the digest stored next to the entry.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import rfc8785

from piguard.oversight.cases.schemas import CaseDetail, DispositionOut, EventOut, EvidenceOut, SubjectOut

DIGEST_VERSION = 2
DECIDED = ("disposition_approved", "disposition_rejected")


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def digest(content: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of the RFC 8785 canonical JSON of ``content``."""
    return hashlib.sha256(rfc8785.dumps(dict(content))).hexdigest()


def base_content(case_id: str, row: Any) -> dict[str, Any]:
    """The entry's own fields: all a version 1 digest covers."""
    return {
        "case_id": case_id,
        "seq": row.seq,
        "kind": row.kind,
        "from_state": row.from_state,
        "to_state": row.to_state,
        "reason": row.reason,
        "ref_id": row.ref_id,
        "actor_id": row.actor_id,
        "at": _plain(row.at),
    }


def entry_content(case_id: str, row: Any, bound: Mapping[str, Any] | None) -> dict[str, Any]:
    """The version 2 digested content: the entry and the content of what it created (``bound``)."""
    return {**base_content(case_id, row), "v": DIGEST_VERSION, "bound": dict(bound) if bound is not None else None}


def opened_content(case: Any) -> dict[str, Any]:
    """What an ``opened`` entry binds: the case's fixed fields."""
    keys = ("title", "source", "source_ref", "suspect_user_id", "org_id", "opened_by", "opened_at")
    return {key: _plain(getattr(case, key)) for key in keys}


def subject_content(subject: Any) -> dict[str, Any]:
    """What a ``subject_added`` entry binds."""
    return {key: _plain(getattr(subject, key)) for key in ("report_id", "subject_id", "added_at")}


def evidence_content(item: Any) -> dict[str, Any]:
    """What an ``evidence_added`` entry binds."""
    keys = ("id", "kind", "reference", "sha256", "description", "added_by", "added_at")
    return {**{key: _plain(getattr(item, key)) for key in keys}, "event_ids": list(item.event_ids)}


def proposal_content(item: Any) -> dict[str, Any]:
    """What a ``disposition_proposed`` entry binds."""
    keys = (
        "id",
        "kind",
        "target_user_id",
        "effective_date",
        "authority",
        "detail",
        "reason",
        "proposed_by",
        "proposed_at",
    )
    return {key: _plain(getattr(item, key)) for key in keys}


def decision_content(
    *,
    disposition_id: str,
    decision: str | None,
    decided_by: str | None,
    decided_at: datetime | None,
    reason: str | None,
) -> dict[str, Any]:
    """What a ``disposition_approved``/``_rejected`` entry binds."""
    return {
        "disposition_id": disposition_id,
        "decision": decision,
        "decided_by": decided_by,
        "decided_at": _plain(decided_at),
        "reason": reason,
    }


def _decided(item: DispositionOut) -> dict[str, Any]:
    return decision_content(
        disposition_id=item.id,
        decision=None if item.status == "proposed" else item.status,
        decided_by=item.decided_by,
        decided_at=item.decided_at,
        reason=item.decision_reason,
    )


@dataclass(slots=True)
class CaseCheck:
    """The result of checking one case: problems found, entries checked, entries of the old rule."""

    case_id: str
    entries: int = 0
    legacy: int = 0
    problems: list[str] = field(default_factory=list)


def _bound(case: CaseDetail, entry: EventOut) -> tuple[bool, dict[str, Any] | None]:
    """(found, content) of what ``entry`` created, as ``case`` shows it now."""
    subjects: dict[str, SubjectOut] = {s.report_id: s for s in case.subjects}
    evidence: dict[str, EvidenceOut] = {e.id: e for e in case.evidence}
    dispositions: dict[str, DispositionOut] = {d.id: d for d in case.dispositions}
    ref = entry.ref_id or ""
    if entry.kind == "opened":
        return True, opened_content(case)
    if entry.kind == "subject_added":
        return (ref in subjects), subject_content(subjects[ref]) if ref in subjects else None
    if entry.kind == "evidence_added":
        return (ref in evidence), evidence_content(evidence[ref]) if ref in evidence else None
    if entry.kind == "disposition_proposed":
        return (ref in dispositions), proposal_content(dispositions[ref]) if ref in dispositions else None
    if entry.kind in DECIDED:
        return (ref in dispositions), _decided(dispositions[ref]) if ref in dispositions else None
    return True, None


def _linked(case: CaseDetail, result: CaseCheck) -> None:
    """Every subject, evidence item, disposition and decision is one some history entry created."""
    refs = {(entry.kind, entry.ref_id) for entry in case.history}
    for subject in case.subjects:
        if ("subject_added", subject.report_id) not in refs:
            result.problems.append(f"subject {subject.report_id}: no history entry added it")
    for item in case.evidence:
        if ("evidence_added", item.id) not in refs:
            result.problems.append(f"evidence {item.id}: no history entry added it")
    for proposal in case.dispositions:
        if ("disposition_proposed", proposal.id) not in refs:
            result.problems.append(f"disposition {proposal.id}: no history entry proposed it")
        decided = [kind for kind in DECIDED if (kind, proposal.id) in refs]
        status = None if proposal.status == "proposed" else f"disposition_{proposal.status}"
        if (status is None and decided) or (status is not None and decided != [status]):
            result.problems.append(f"disposition {proposal.id}: its decision is not the one in the history")


def _projection(case: CaseDetail, result: CaseCheck) -> None:
    states = [entry.to_state for entry in case.history if entry.kind in ("opened", "transition") and entry.to_state]
    assignees = [entry.ref_id for entry in case.history if entry.kind == "assigned"]
    if states and states[-1] != case.state:
        result.problems.append(f"state {case.state!r} is not the one the history reached ({states[-1]!r})")
    if assignees and assignees[-1] != case.assignee_id:
        result.problems.append("assignee is not the one the history assigned last")


def check_case(case: CaseDetail, ledger_reasons: Mapping[str, str]) -> CaseCheck:
    """Check each entry (and what it created) against the digest in its ledger event's reason."""
    result = CaseCheck(case_id=case.id, entries=len(case.history))
    for entry in case.history:
        reason = ledger_reasons.get(entry.ledger_event_id)
        where = f"history entry {entry.seq} ({entry.kind})"
        if reason is None:
            result.problems.append(f"{where}: its ledger event {entry.ledger_event_id} is missing")
            continue
        found, bound = _bound(case, entry)
        current = digest(entry_content(case.id, entry, bound))
        if found and f"sha256={current}" in reason:
            continue
        legacy = digest(base_content(case.id, entry))
        if f"sha256={legacy}" in reason:
            result.legacy += 1  # recorded under digest version 1: only the entry itself is bound
            continue
        what = "what it created is missing" if not found else "it or what it created was changed"
        result.problems.append(f"{where}: does not match its ledger event ({what})")
    _linked(case, result)
    _projection(case, result)
    return result
