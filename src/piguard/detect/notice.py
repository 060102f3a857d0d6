"""Deterrence notices: a short, same-day warning addressed to the user behind a new alert.

Same-day warnings cut repeat snooping from 40 % to 2 % in a 2022 JAMA Network Open study.
The notice names what was seen in general terms (counts, kinds of access, dates), never
record data, so it can be sent by ordinary e-mail or shown at the next login.
"""

from __future__ import annotations

from collections.abc import Sequence

from piguard.detect.detectors.base import Finding

_WHAT = {
    "canary_access": "opened records that no work task leads to",
    "unexplained_fresh_deaths": "viewed very recent deaths you had no role in",
    "contact_elsewhere": "displayed relatives' contact details of deaths handled by another institution",
    "contact_disclosure": "displayed relatives' contact details without a work reason on file",
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


def notice_text(*, user_id: str, findings: Sequence[Finding]) -> str:
    """The warning notice for ``user_id`` (no record data: kinds, counts and dates only)."""
    if not findings:
        return ""
    first = min(f.first_ts for f in findings).date().isoformat()
    last = max(f.last_ts for f in findings).date().isoformat()
    period = f"on {first}" if first == last else f"between {first} and {last}"
    items = "; ".join(_WHAT.get(f.detector, f.detector) for f in findings[:4])
    return (
        f"To account {user_id}: the access monitor noted that {period} you {items}. "
        "Records may be opened only for a task assigned to you, and every access is logged and "
        "reviewed. The privacy officer has been notified and may ask you to explain these accesses. "
        "If they were part of your work, reply with the task or case they belong to."
    )
