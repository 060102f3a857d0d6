"""A small hand-made world for detector tests: two hospitals, staff, deaths, relationships.

Every legitimate access is backed by a relationship; tests add the misuse they need and
assert who is flagged and why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from piguard.interchange.context import (
    ContextTables,
    OrgRow,
    RelationshipRow,
    ShiftRow,
    SubjectRow,
    UserRow,
)
from piguard.interchange.events import AccessEvent

T0 = datetime(2025, 3, 3, 0, 0, tzinfo=UTC)


@dataclass
class World:
    """Builder of events and context tables."""

    users: list[UserRow] = field(default_factory=list)
    orgs: list[OrgRow] = field(default_factory=list)
    subjects: list[SubjectRow] = field(default_factory=list)
    relationships: list[RelationshipRow] = field(default_factory=list)
    shifts: list[ShiftRow] = field(default_factory=list)
    events: list[AccessEvent] = field(default_factory=list)
    _n: int = 0

    def event(self, user: str, when: datetime, *, action: str = "read", subject: str | None = None,
              fields: tuple[str, ...] = ("death.cause",), terminal: str | None = None, **extra: object) -> str:
        """Add one event by ``user``; returns its id."""
        self._n += 1
        row = next((u for u in reversed(self.users) if u.user_id == user), None)
        if row is None:  # a clear failure, not a StopIteration leaking out of the test
            raise ValueError(f"no user {user!r} in this world ({len(self.users)} users)")
        event_id = f"e{self._n:06d}"
        self.events.append(AccessEvent.model_validate({
            "event_id": event_id, "time": when, "user_id": user, "role": row.role, "org_id": row.org_id,
            "action": action, "resource_type": "death_report" if subject else None,
            "subject_id": subject, "fields": fields if subject else (),
            "terminal_id": terminal or f"t-{user}", **extra,
        }))
        return event_id

    def context(self) -> ContextTables:
        """The context tables."""
        return ContextTables(users=tuple(self.users), orgs=tuple(self.orgs), subjects=tuple(self.subjects),
                             relationships=tuple(self.relationships), shifts=tuple(self.shifts),
                             present=frozenset({"users", "orgs", "subjects", "relationships", "shifts"}))


def hospital_world(*, days: int = 28, staff_per_org: int = 8) -> World:
    """Two hospitals in two districts; each physician certifies and re-reads a death a day."""
    w = World()
    w.orgs = [
        OrgRow(org_id="h1", org_type="hospital", district="310112", name="Hospital One"),
        OrgRow(org_id="h2", org_type="hospital", district="310104", name="Hospital Two"),
    ]
    for org, district in (("h1", "310112"), ("h2", "310104")):
        for i in range(staff_per_org):
            w.users.append(UserRow(
                user_id=f"{org}-doc{i}", role="physician", org_id=org, district=district,
                home_compound=f"{district}-c{i}", surname=f"S{org}{i}", active_from=T0 - timedelta(days=400),
            ))
    n = 0
    for day in range(days):
        for org, district in (("h1", "310112"), ("h2", "310104")):
            for i in range(staff_per_org):
                n += 1
                subject = f"s{n:05d}"
                death = T0 + timedelta(days=day, hours=8 + i % 8)
                user = f"{org}-doc{i}"
                w.subjects.append(SubjectRow(subject_id=subject, death_time=death, district=district,
                                             compound=f"{district}-x{n % 50}", surname=f"P{n % 40}"))
                w.relationships.append(RelationshipRow(user_id=user, subject_id=subject, kind="certifier",
                                                       valid_from=death - timedelta(hours=1),
                                                       valid_to=death + timedelta(days=3)))
                w.shifts.append(ShiftRow(user_id=user, start=T0 + timedelta(days=day, hours=7),
                                         end=T0 + timedelta(days=day, hours=19)))
                w.event(user, death + timedelta(minutes=20), subject=subject,
                        fields=("death.cause", "relative.phone"))
                w.event(user, death + timedelta(hours=2), subject=subject, action="update")
    return w


def fresh_subjects(w: World, org_district: str = "310104") -> list[SubjectRow]:
    """Subjects of the given district, in order of death."""
    return [s for s in w.subjects if s.district == org_district]
