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

A deleted entry is found too: entries are numbered 1, 2, ... without gaps, and every ledger
event recorded for the case (its ``resource_id`` and a reason of the ``ledger_reason`` form)
must be an entry's. In a bundle, every event the history or the evidence cites must be in
``entries.jsonl`` or listed as missing in ``manifest.json``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import rfc8785

from piguard.oversight.cases.schemas import CaseDetail, DispositionOut, EventOut, EvidenceOut, SubjectOut

DIGEST_VERSION = 2
DECIDED = ("disposition_approved", "disposition_rejected")
#: The reason of the ledger event of a history entry (see ``ledger_reason``).
LEDGER_REASON = re.compile(r"case ([a-z_]+)(?: [A-Za-z_]+->[a-z_]+)? #([0-9]{1,10}); sha256=[0-9a-f]{64}", re.ASCII)
#: Gaps and unrecorded events named in a problem before "and N more".
SHOWN = 5


def ledger_reason(*, kind: str, from_state: str | None, to_state: str | None, seq: int, digest: str) -> str:
    """The reason of a history entry's ledger event: what it was, its number and its digest (no free text)."""
    step = f" {from_state}->{to_state}" if to_state else ""
    return f"case {kind}{step} #{seq}; sha256={digest}"


def recorded_entry(reason: str | None) -> tuple[str, int] | None:
    """(kind, number) of the history entry a ledger event's reason records, or None if it records none."""
    found = LEDGER_REASON.fullmatch(reason or "")
    return None if found is None else (found.group(1), int(found.group(2)))


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


def _shown(items: list[str]) -> str:
    more = len(items) - SHOWN
    return ", ".join(items[:SHOWN]) + (f" and {more} more" if more > 0 else "")


def _numbering(case: CaseDetail, result: CaseCheck) -> None:
    """Entries are numbered 1, 2, ... without gaps or repeats: a missing number is a deleted entry."""
    numbers = [entry.seq for entry in case.history]
    if not numbers:
        result.problems.append("the case has no history entries (every case has at least its 'opened' entry)")
        return
    held = set(numbers)
    gaps = [f"#{seq}" for seq in range(1, max(numbers) + 1) if seq not in held]
    if gaps:
        result.problems.append(
            f"history entries are not numbered 1 to {max(numbers)} without gaps: {_shown(gaps)} missing "
            "(entries were deleted)"
        )
    repeated = sorted({seq for seq in numbers if numbers.count(seq) > 1})
    if repeated:
        result.problems.append(f"history entries numbered more than once: {_shown([f'#{s}' for s in repeated])}")
    if min(numbers) < 1:
        result.problems.append("history entries are numbered from 1")


def _unrecorded(case: CaseDetail, recorded: Mapping[str, tuple[str, int]], result: CaseCheck) -> None:
    """Every ledger event recorded for the case is one of its history entries' events."""
    own = {entry.ledger_event_id for entry in case.history}
    orphans = sorted((seq, kind, event_id) for event_id, (kind, seq) in recorded.items() if event_id not in own)
    for seq, kind, event_id in orphans[:SHOWN]:
        result.problems.append(
            f"ledger event {event_id} records history entry #{seq} ({kind}) of this case, "
            "but the history has no entry with that event (it was deleted)"
        )
    if len(orphans) > SHOWN:
        result.problems.append(f"and {len(orphans) - SHOWN} more ledger events of this case have no history entry")


def _unaccounted(case: CaseDetail, accounted: Collection[str], result: CaseCheck) -> None:
    """Every event an evidence item cites is in the bundle or listed as missing (history events: see above)."""
    for item in case.evidence:
        gone = [event_id for event_id in item.event_ids if event_id not in accounted]
        if gone:
            result.problems.append(
                f"evidence {item.id} cites ledger event(s) {_shown(gone)} that are neither in entries.jsonl nor "
                "listed as missing in manifest.json (entries were removed from the bundle)"
            )


def check_case(
    case: CaseDetail,
    ledger_reasons: Mapping[str, str],
    *,
    recorded: Mapping[str, tuple[str, int]] | None = None,
    accounted: Collection[str] | None = None,
) -> CaseCheck:
    """Check each entry (and what it created) against the digest in its ledger event's reason.

    ``recorded``: the ledger events recorded for this case (event id to the entry's kind and
    number, see ``recorded_entry``), each of which must be an entry's. ``accounted``: in a bundle,
    the event ids of ``entries.jsonl`` and those listed as missing, which every cited event must be.
    """
    result = CaseCheck(case_id=case.id, entries=len(case.history))
    _numbering(case, result)
    if recorded is not None:
        _unrecorded(case, recorded, result)
    if accounted is not None:
        _unaccounted(case, accounted, result)
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
