"""Path ids: every ``{..._id}`` in a route is an opaque ULID, checked before anything runs.

Every primary key is ``piguard.ids.new_id()``: a 26-character ULID in Crockford base32, upper
case, whose first character is at most ``7`` (48-bit timestamp). Anything else cannot name a
row, so it is a 422 naming the path field (``path.case_id``) and never reaches a service, the
database or the ledger, the same on every router.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path

ULID_PATTERN = r"^[0-7][0-9A-HJKMNP-TV-Z]{25}$"
# The monthly report's organisation may also be the literal "city" (the whole city's report).
ORG_OR_CITY_PATTERN = r"^(?:city|[0-7][0-9A-HJKMNP-TV-Z]{25})$"

PathId = Annotated[str, Path(pattern=ULID_PATTERN, description="Opaque id: a 26-character ULID.")]
OrgOrCity = Annotated[
    str, Path(pattern=ORG_OR_CITY_PATTERN, description="Organisation id (26-character ULID), or 'city'.")
]
