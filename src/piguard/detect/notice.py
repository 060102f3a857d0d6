"""Deterrence notices: a short, same-day warning addressed to the user behind a new alert.

Same-day warnings cut repeat snooping from 40 % to 2 % in a 2022 JAMA Network Open study.
The notice names what was seen in general terms (counts, kinds of access, dates), never
record data, so it can be sent by ordinary e-mail or shown at the next login.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, tzinfo

from piguard.detect.canary import canary_kind
from piguard.detect.detectors.base import Finding

_WHAT = {
    "canary_access": "opened records that no work task leads to",
    "unexplained_fresh_deaths": "viewed very recent deaths you had no role in",
    "contact_elsewhere": "displayed relatives' contact details of deaths handled by another institution",
    "contact_disclosure": "displayed relatives' contact details without a work reason on file",
    "late_handle_call": "had a relative's virtual number shown to you called after it had ended",
    "contact_list_export": "exported or printed lists of deaths with the relatives' phone numbers or addresses",
    "other_institution": "opened records handled by another institution or district",
    "neighbour_lookup": "opened records of people from your own residential compound",
    "family_lookup": "opened records of people who may be your relatives",
    "bulk_export": "exported or printed lists of identifiable records",
    "concurrent_sessions": "used your account from two terminals at the same time",
    "breakglass_no_followup": "used emergency (break-glass) access without follow-up care",
    "search_enumeration": "ran long series of searches through the register",
    "volume_spike": "opened far more records in a day than your work usually needs",
    "off_shift": "opened records outside your rostered shifts",
    "unexplained_access": "opened records with no work relationship on file",
}


# A canary touched in different ways: opened, a refused attempt, listed in results.
_CANARY = {
    "opened": "opened records that no work task leads to",
    "refused": "tried to open records that no work task leads to",
    "results": "ran searches or exports whose results included records that no work task leads to",
}


def _what(finding: Finding) -> str:
    if finding.detector != "canary_access" or not finding.evidence:
        return _WHAT.get(finding.detector, finding.detector)
    kinds = {canary_kind(e.detail) for e in finding.evidence}
    return ", and ".join(_CANARY[k] for k in ("opened", "refused", "results") if k in kinds)


def notice_text(*, user_id: str, findings: Sequence[Finding], tz: tzinfo = UTC) -> str:
    """The warning notice for ``user_id`` (no record data: kinds, counts and dates only).

    Dates are the user's calendar dates: in ``tz``, the offset the events carried (an access
    at 04:48+08:00 on 1 January is on 1 January, not on 31 December as in UTC).
    """
    if not findings:
        return ""
    first = min(f.first_ts for f in findings).astimezone(tz).date().isoformat()
    last = max(f.last_ts for f in findings).astimezone(tz).date().isoformat()
    period = f"on {first}" if first == last else f"between {first} and {last}"
    items = "; ".join(_what(f) for f in findings[:4])
    return (
        f"To account {user_id}: the access monitor noted that {period} you {items}. "
        "Records may be opened only for a task assigned to you, and every access is logged and "
        "reviewed. The privacy officer has been notified and may ask you to explain these accesses. "
        "If they were part of your work, reply with the task or case they belong to."
    )
