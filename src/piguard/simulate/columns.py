"""Events as numpy columns (a ``Block``) and the small vocabularies their codes index.

Generators build blocks of thousands of events at once; only at export are codes turned into
strings (with Arrow kernels), which is what makes city-scale generation fast.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

ACTIONS = ("read", "search", "export", "print", "create", "update", "login", "logout",
           "breakglass", "resolve_handle")
RTYPES = ("", "death_report", "dispatch", "person", "contact", "statistics", "encounter")
PURPOSES = ("", "TREAT", "ETREAT", "BTG", "HOPERAT", "PUBHLTH", "HRESCH", "LEGAL", "FAMRQT")
REASONS = ("", "policy:care-team", "policy:crew-assignment", "policy:jurisdiction",
           "policy:breakglass", "policy:funeral-code", "policy:statistics", "deny:no-relationship")
OUTCOMES = ("allowed", "denied")
FIELDSETS: tuple[tuple[str, ...], ...] = (
    (),
    ("death.time", "death.place", "death.cause", "deceased.name", "deceased.sex",
     "deceased.age"),
    ("death.time", "death.place", "death.cause", "deceased.name", "deceased.resident_id",
     "deceased.address", "relative.name", "relative.phone"),
    ("death.cause", "death.cause_code", "deceased.age", "deceased.sex", "deceased.district"),
    ("deceased.name", "deceased.resident_id", "death.time", "deceased.household_address"),
    ("deceased.name", "death.time", "relative.name", "relative.phone"),
    ("dispatch.pickup_address", "dispatch.access_notes", "dispatch.chief_complaint",
     "dispatch.patient_age", "dispatch.hazards"),
    ("dispatch.status",),
    ("patient.name", "patient.diagnosis", "patient.orders", "patient.notes"),
    ("relative.name", "relative.phone", "relative.address"),
)
# Named indices into the vocabularies, so generators read like prose.
A = {name: i for i, name in enumerate(ACTIONS)}
R = {name: i for i, name in enumerate(RTYPES)}
P = {name: i for i, name in enumerate(PURPOSES)}
W = {name: i for i, name in enumerate(REASONS)}
F_NONE, F_CLINICAL_DEATH, F_FULL, F_CODING, F_REGISTRY, F_FUNERAL = 0, 1, 2, 3, 4, 5
F_DISPATCH, F_STATUS, F_PATIENT, F_CONTACT = 6, 7, 8, 9

# Subject namespaces: deaths are 0..D-1; living people are offset so ids never collide.
INPATIENT_BASE = 1_000_000_000
CALLER_BASE = 2_000_000_000
# Resource namespaces for dispatch ids (death-linked calls index city.dispatches).
OTHER_CALL_BASE = 1_000_000_000

COLUMNS = ("t", "user", "action", "rtype", "subj", "res", "fields", "purpose", "reason",
           "outcome", "terminal", "session", "extra", "scenario")
_DTYPES = {"t": np.int64, "user": np.int32, "action": np.int8, "rtype": np.int8,
           "subj": np.int64, "res": np.int64, "fields": np.int8, "purpose": np.int8,
           "reason": np.int8, "outcome": np.int8, "terminal": np.int32, "session": np.int64,
           "extra": np.int32, "scenario": np.int8}
# Defaults for optional columns: -1 means absent.
_DEFAULTS = {"subj": -1, "res": -1, "fields": 0, "purpose": 0, "reason": 0, "outcome": 0,
             "terminal": -2, "session": -1, "extra": -1, "scenario": 0}


@dataclass(slots=True)
class Block:
    """A batch of events as parallel numpy arrays (see ``COLUMNS``).

    ``t`` is seconds since the simulation start (local time); ``terminal`` -2 means "the
    user's own workstation", -1 none; ``session`` -1 means "the user's shift session";
    ``extra`` indexes query/result details kept beside the block; ``scenario`` 0 is legitimate.
    """

    cols: dict[str, np.ndarray]

    def __len__(self) -> int:
        return len(self.cols["t"])

    def take(self, index: np.ndarray) -> Block:
        """The rows at ``index`` (an integer or boolean array)."""
        return Block({name: values[index] for name, values in self.cols.items()})


def block(n: int | None = None, **values: np.ndarray | int) -> Block:
    """A block from arrays and scalars (scalars broadcast); missing columns take defaults."""
    if n is None:
        n = next(len(v) for v in values.values() if isinstance(v, np.ndarray))
    cols: dict[str, np.ndarray] = {}
    for name in COLUMNS:
        value = values.get(name, _DEFAULTS.get(name))
        if value is None:
            raise ValueError(f"column {name!r} is required")
        array = np.asarray(value, dtype=_DTYPES[name])
        cols[name] = np.broadcast_to(array, (n,)).copy() if array.ndim == 0 else array
        if len(cols[name]) != n:
            raise ValueError(f"column {name!r} has {len(cols[name])} rows, expected {n}")
    unknown = set(values) - set(COLUMNS)
    if unknown:
        raise ValueError(f"unknown columns {sorted(unknown)}")
    return Block(cols)


def concat(blocks: Sequence[Block]) -> Block:
    """One block holding the rows of all ``blocks`` in order."""
    blocks = [b for b in blocks if len(b)]
    if not blocks:
        return block(0, t=np.empty(0, np.int64), user=np.empty(0, np.int32),
                     action=np.empty(0, np.int8), rtype=np.empty(0, np.int8))
    return Block({name: np.concatenate([b.cols[name] for b in blocks]) for name in COLUMNS})
