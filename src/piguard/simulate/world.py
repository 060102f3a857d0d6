"""The city as numpy lookup arrays: what the vectorised generators index into."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from piguard.interchange.events import ROLES
from piguard.simulate.city import DEPARTMENTS, City
from piguard.simulate.roster import PATTERNS, shift_table
from piguard.simulate.scales import Scale, get_scale


def seconds(city: City, when: datetime) -> int:
    """Seconds from the simulation start to ``when``."""
    return int((when - city.start).total_seconds())


@dataclass
class World:
    """Index arrays over a ``City`` (built once per run)."""

    city: City
    scale: Scale
    staff_ids: list[str]
    role: np.ndarray           # index into ROLES
    org: np.ndarray            # org index before any transfer
    org_after: np.ndarray      # org index after transfer (same when none)
    transfer_t: np.ndarray     # seconds; huge when no transfer
    pattern: np.ndarray
    offset: np.ndarray
    leave_from: np.ndarray     # first leave day (or -1)
    leave_to: np.ndarray       # day after the last leave day
    dept: np.ndarray           # index into DEPARTMENTS, -1 outside hospitals
    supervisor: np.ndarray
    workstation: np.ndarray    # terminal index of the user's usual workstation or MDT
    terminals: list[str]
    terminal_ip: list[str]
    org_ids: list[str]
    org_type: list[str]
    org_district: list[str]
    hospitals: np.ndarray      # org indices of hospitals
    death_ids: list[str]
    report_ids: list[str]
    dispatch_ids: list[str]
    staff_index: dict[str, int] = field(default_factory=dict)
    org_index: dict[str, int] = field(default_factory=dict)
    by_org_role: dict[tuple[int, int], np.ndarray] = field(default_factory=dict)
    by_org_dept_role: dict[tuple[int, int, int], np.ndarray] = field(default_factory=dict)
    arrays: dict[str, Any] = field(default_factory=dict)  # rendered id arrays, built lazily

    def on_shift(self, day: int) -> tuple[np.ndarray, np.ndarray]:
        """Start minute and duration of each staff member's shift starting on ``day`` (-1 off)."""
        begin, length = shift_table(self.pattern, self.offset, day=day,
                                    start=self.city.start.date())
        away = (self.leave_from <= day) & (day < self.leave_to)
        begin[away] = -1
        length[away] = -1
        return begin, length

    def org_at(self, users: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Organisation index of each user at each time (transfers respected)."""
        at: np.ndarray = np.where(t >= self.transfer_t[users], self.org_after[users],
                                  self.org[users])
        return at

    def staff_of(self, org: int, role: str) -> np.ndarray:
        """Staff indices of ``role`` whose first organisation is ``org``."""
        return self.by_org_role.get((org, ROLES.index(role)), np.empty(0, np.int64))


def build_world(city: City) -> World:
    """Index ``city`` for the generators."""
    org_index = {o.org_id: k for k, o in enumerate(city.organisations)}
    terminals: list[str] = []
    terminal_ip: list[str] = []
    term_index: dict[str, int] = {}

    def terminal(name: str, ip: str) -> int:
        if name not in term_index:
            term_index[name] = len(terminals)
            terminals.append(name)
            terminal_ip.append(ip)
        return term_index[name]

    n = len(city.staff)
    role = np.empty(n, np.int8)
    org = np.empty(n, np.int32)
    org_after = np.empty(n, np.int32)
    transfer_t = np.full(n, 2**62, np.int64)
    pattern = np.empty(n, np.int8)
    offset = np.empty(n, np.int32)
    leave_from = np.full(n, -1, np.int32)
    leave_to = np.full(n, -1, np.int32)
    dept = np.full(n, -1, np.int8)
    supervisor = np.zeros(n, bool)
    workstation = np.empty(n, np.int32)
    groups: dict[tuple[int, int], list[int]] = defaultdict(list)
    dept_groups: dict[tuple[int, int, int], list[int]] = defaultdict(list)
    for i, s in enumerate(city.staff):
        role[i] = ROLES.index(s.role)
        org[i] = org_index[s.org_id]
        org_after[i] = org_index[s.transfer.to_org_id] if s.transfer else org[i]
        if s.transfer:
            transfer_t[i] = seconds(city, s.transfer.time)
        pattern[i] = PATTERNS.index(s.roster.pattern)
        offset[i] = s.roster.offset
        if s.roster.leave:
            leave_from[i], leave_to[i] = s.roster.leave[0], s.roster.leave[-1] + 1
        if s.department in DEPARTMENTS:
            dept[i] = DEPARTMENTS.index(s.department)
        supervisor[i] = s.supervisor
        if s.vehicle_terminal:
            workstation[i] = terminal(s.vehicle_terminal, f"10.120.{int(s.vehicle_terminal[4:]) // 250}"
                                      f".{int(s.vehicle_terminal[4:]) % 250 + 1}")
        else:
            # Colleagues of a department share a few workstations (3 per group).
            o = org[i]
            slot = len(dept_groups[(int(o), int(dept[i]), -1)]) % 3
            dept_groups[(int(o), int(dept[i]), -1)].append(i)
            workstation[i] = terminal(f"ws-{s.org_id[4:]}-{int(dept[i]) + 1}-{slot + 1}",
                                      f"10.{o // 250 + 1}.{o % 250}.{(int(dept[i]) + 2) * 10 + slot}")
        groups[(int(org[i]), int(role[i]))].append(i)
        if dept[i] >= 0:
            dept_groups[(int(org[i]), int(dept[i]), int(role[i]))].append(i)
    return World(
        city=city, scale=get_scale(city.scale), staff_ids=[s.staff_id for s in city.staff],
        role=role, org=org, org_after=org_after, transfer_t=transfer_t, pattern=pattern,
        offset=offset, leave_from=leave_from, leave_to=leave_to, dept=dept,
        supervisor=supervisor, workstation=workstation, terminals=terminals,
        terminal_ip=terminal_ip, org_ids=[o.org_id for o in city.organisations],
        org_type=[o.org_type for o in city.organisations],
        org_district=[o.district for o in city.organisations],
        hospitals=np.array([k for k, o in enumerate(city.organisations)
                            if o.org_type == "hospital"]),
        death_ids=[d.subject_id for d in city.deaths],
        report_ids=[d.report_id for d in city.deaths],
        dispatch_ids=[d.dispatch_id for d in city.dispatches if d.dispatch_id.startswith("dp")],
        staff_index={s.staff_id: i for i, s in enumerate(city.staff)},
        org_index=org_index,
        by_org_role={k: np.array(v) for k, v in groups.items()},
        by_org_dept_role={k: np.array(v) for k, v in dept_groups.items() if k[2] >= 0},
    )
