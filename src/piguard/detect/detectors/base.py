"""The detector contract: a flag query (shared SQL), a count to test, and a reason in words."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar, Literal

from piguard.detect.features import FLAGS

Metric = Literal["subjects", "events"]


@dataclass(frozen=True, slots=True)
class Evidence:
    """One flagged event as a detector saw it: id, action and how the record was touched."""

    event_id: str
    subject_id: str | None
    detail: str | None


@dataclass(frozen=True, slots=True)
class Finding:
    """What one detector found about one user: the tested count and its evidence."""

    detector: str
    user_id: str
    count: int
    expected: float
    p_value: float
    first_ts: datetime
    last_ts: datetime
    event_ids: tuple[str, ...]
    subject_ids: tuple[str, ...]
    text: str
    event_times: tuple[datetime, ...] = ()
    # The evidence rows; ``detail`` (detectors in ``features.WITH_DETAIL``) says how the event
    # touched the record, e.g. ``read``, ``read:denied``, ``search:results``.
    evidence: tuple[Evidence, ...] = ()


class Detector:
    """One kind of misuse. Subclasses set ``name``, ``metric`` and implement :meth:`explain`.

    ``metric`` says what is counted per user (distinct records, or events) and compared with
    the same count among the user's peers; the flag query itself lives in ``features.FLAGS``
    so both engines run one definition.
    """

    name: ClassVar[str]
    metric: ClassVar[Metric] = "subjects"
    # A hit is serious whatever the peers do (canaries): alert at high severity.
    always_high: ClassVar[bool] = False

    @property
    def flag_sql(self) -> str:
        """The SQL selecting this detector's flagged events."""
        return FLAGS[self.name]

    def count(self, *, n_events: int, n_subjects: int) -> int:
        """The number tested against peers."""
        return n_subjects if self.metric == "subjects" else n_events

    def explain(self, *, count: int, expected: float) -> str:
        """A plain-language reason a privacy officer can act on (no record data)."""
        raise NotImplementedError

    def describe(self, *, count: int, expected: float, evidence: Sequence[Evidence]) -> str:
        """The reason, given the evidence rows too (detectors with a ``detail`` column use them)."""
        del evidence
        return self.explain(count=count, expected=expected)


def peers_phrase(expected: float) -> str:
    """How the count compares with peers, in words."""
    return f"peers in the same role and organisation average {expected:.1f}"
