"""The one definition of every detection feature, as SQL both engines run unchanged.

The SQL sticks to the dialect DuckDB and Spark SQL share (``INTERVAL n HOURS``, ``CAST(.. AS
DATE)``, ``date_trunc``, window functions, ``median``, ``EXISTS``, ``LIKE``); a parity test
runs every statement on both. Inputs are the prepared tables (``events``, ``event_results``,
``p_users``, ``p_orgs``, ``p_subjects``, ``p_relationships``, ``p_shifts``, ``history_days``)
written by :mod:`piguard.detect.prepare`.

Each detector's *flag query* returns the events it flags as ``user_id, event_id, ts,
subject_id``; :func:`flags_sql` unions them into one table, and :func:`aggregate_sql` and
:func:`evidence_sql` read it the same way for every detector, so per-user counts and
evidence are computed by the engine, not in Python.
"""

# ruff: noqa: S608  (SQL is assembled from constants in this module, never from input)

from __future__ import annotations

from collections.abc import Sequence

# Grace around a relationship's window (clocks and paperwork lag) and the follow-up window.
RELATIONSHIP_GRACE = "INTERVAL 2 HOURS"
CARE_TEAM_AFTER = "INTERVAL 7 DAYS"
FRESH_DEATH_WINDOW = "INTERVAL 12 HOURS"
SHIFT_GRACE = "INTERVAL 1 HOURS"
CONCURRENT_WINDOW = "INTERVAL 2 MINUTES"
PRESENCE_MAX = "INTERVAL 24 HOURS"
BREAKGLASS_FOLLOWUP = "INTERVAL 24 HOURS"
SEARCH_BURST = 10
BULK_EXPORT_ROWS = 20
EVIDENCE_PER_USER = 25

# Accesses that disclose a record (searches and exports are judged by their own detectors).
DISCLOSING = "('read', 'print', 'update', 'export', 'resolve_handle', 'create')"
CLINICAL_KINDS = "('certifier', 'attending')"
CLINICAL_ROLES = "('physician', 'nurse')"

# Derived tables, materialised in this order by every engine.
BASE: tuple[tuple[str, str], ...] = (
    ("users_cur", """
SELECT user_id, district, home_compound, surname FROM (
  SELECT user_id, district, home_compound, surname,
         row_number() OVER (PARTITION BY user_id ORDER BY active_from DESC) AS rn
  FROM p_users) t
WHERE rn = 1
"""),
    ("care_team", f"""
SELECT DISTINCT r.subject_id, u.org_id, r.valid_from, r.valid_to
FROM p_relationships r
JOIN p_users u ON u.user_id = r.user_id AND r.valid_from >= u.active_from
  AND (u.active_to IS NULL OR r.valid_from <= u.active_to)
WHERE r.kind IN {CLINICAL_KINDS}
"""),
    ("care_orgs", """
SELECT DISTINCT r.subject_id, u.org_id
FROM p_relationships r
JOIN p_users u ON u.user_id = r.user_id AND r.valid_from >= u.active_from
  AND (u.active_to IS NULL OR r.valid_from <= u.active_to)
"""),
    ("expl_ev", f"""
SELECT event_id, min(kind) AS kind FROM (
  SELECT e.event_id, r.kind
  FROM events e
  JOIN p_relationships r ON r.user_id = e.user_id AND r.subject_id = e.subject_id
  WHERE e.ts >= r.valid_from - {RELATIONSHIP_GRACE}
    AND (r.valid_to IS NULL OR e.ts <= r.valid_to + {RELATIONSHIP_GRACE})
  UNION ALL
  SELECT e.event_id, 'team' AS kind
  FROM events e
  JOIN care_team t ON t.subject_id = e.subject_id AND t.org_id = e.org_id
  WHERE e.role IN {CLINICAL_ROLES}
    AND e.ts >= t.valid_from - {RELATIONSHIP_GRACE}
    AND (t.valid_to IS NULL OR e.ts <= t.valid_to + {CARE_TEAM_AFTER})
) x
GROUP BY event_id
"""),
    ("acc", """
SELECT e.event_id, e.ts, e.user_id, e.role, e.org_id, e.terminal_id, e.action,
       e.resource_type, e.subject_id, e.fields, e.purpose, e.outcome,
       x.kind AS explained_by,
       CASE WHEN x.kind IS NULL THEN 0 ELSE 1 END AS explained,
       CASE WHEN x.kind IS NULL OR x.kind = 'team' THEN 0 ELSE 1 END AS direct,
       s.death_ts, s.district AS subj_district, s.compound AS subj_compound,
       s.surname AS subj_surname, coalesce(s.is_canary, 0) AS is_canary,
       u.district AS user_district, u.home_compound, u.surname AS user_surname,
       o.district AS org_district
FROM events e
LEFT JOIN expl_ev x ON x.event_id = e.event_id
LEFT JOIN p_subjects s ON s.subject_id = e.subject_id
LEFT JOIN users_cur u ON u.user_id = e.user_id
LEFT JOIN p_orgs o ON o.org_id = e.org_id
WHERE e.subject_id IS NOT NULL AND e.action NOT IN ('login', 'logout')
"""),
    ("user_group", """
SELECT user_id, role, org_id FROM (
  SELECT user_id, role, org_id,
         row_number() OVER (PARTITION BY user_id ORDER BY n DESC, role, org_id) AS rn
  FROM (SELECT user_id, role, org_id, count(*) AS n FROM events GROUP BY user_id, role, org_id) c
) t
WHERE rn = 1
"""),
)

_UNEXPLAINED = f"explained = 0 AND outcome = 'allowed' AND action IN {DISCLOSING}"
# A colleague's patient who is also the user's neighbour or relative is the classic snooping
# case, so personal-link detectors accept only the user's own relationship, not the team's.
_NOT_DIRECT = f"direct = 0 AND outcome = 'allowed' AND action IN {DISCLOSING}"
# Relatives' contact details on screen (fields, the contact resource, or a handle resolved).
_CONTACT = ("(a.fields LIKE '%;relative.%' OR a.fields LIKE '%phone%' OR a.fields LIKE '%contact%' "
            "OR a.action = 'resolve_handle' OR a.resource_type = 'contact')")
# A death handled in another district, or by institutions other than the user's (``c``: the
# user's organisation among those with a relationship to the subject, joined by the caller).
_ELSEWHERE = ("((a.subj_district IS NOT NULL AND a.org_district IS NOT NULL AND a.subj_district <> a.org_district)"
              " OR (c.org_id IS NULL AND EXISTS (SELECT 1 FROM care_orgs k WHERE k.subject_id = a.subject_id)))")

#: The holder named in a refused resolution's reason (``... (handle issued to <user id>)``).
LATE_HANDLE_HOLDER = r"handle issued to ([^ ;,()]+)"

FLAGS: dict[str, str] = {
    "unexplained_access": f"""
SELECT user_id, event_id, ts, subject_id FROM acc WHERE {_UNEXPLAINED}
""",
    "unexplained_fresh_deaths": f"""
SELECT user_id, event_id, ts, subject_id FROM acc
WHERE {_UNEXPLAINED} AND death_ts IS NOT NULL
  AND ts >= death_ts AND ts <= death_ts + {FRESH_DEATH_WINDOW}
""",
    "other_institution": f"""
SELECT a.user_id, a.event_id, a.ts, a.subject_id
FROM acc a
LEFT JOIN care_orgs c ON c.subject_id = a.subject_id AND c.org_id = a.org_id
WHERE a.{_UNEXPLAINED.replace(" AND ", " AND a.")} AND {_ELSEWHERE}
""",
    "contact_disclosure": f"""
SELECT a.user_id, a.event_id, a.ts, a.subject_id FROM acc a
WHERE a.{_UNEXPLAINED.replace(" AND ", " AND a.")} AND {_CONTACT}
""",
    # The Minhang pattern: relatives' contact details of a death someone else's institution
    # handled. Work across institutions (transfers, consults) needs the clinical record, not
    # the family's phone number, so the conjunction is far rarer than either part alone.
    "contact_elsewhere": f"""
SELECT a.user_id, a.event_id, a.ts, a.subject_id
FROM acc a
LEFT JOIN care_orgs c ON c.subject_id = a.subject_id AND c.org_id = a.org_id
WHERE a.{_UNEXPLAINED.replace(" AND ", " AND a.")} AND {_CONTACT} AND {_ELSEWHERE}
""",
    "off_shift": f"""
SELECT a.user_id, a.event_id, a.ts, a.subject_id
FROM acc a
WHERE a.{_UNEXPLAINED.replace(" AND ", " AND a.")}
  AND EXISTS (SELECT 1 FROM shift_users su WHERE su.user_id = a.user_id)
  AND NOT EXISTS (
    SELECT 1 FROM shift_days s
    WHERE s.user_id = a.user_id AND s.day = CAST(a.ts AS DATE)
      AND a.ts >= s.shift_start - {SHIFT_GRACE} AND a.ts <= s.shift_end + {SHIFT_GRACE})
""",
    "search_enumeration": f"""
SELECT e.user_id, e.event_id, e.ts, e.subject_id
FROM events e
JOIN (SELECT user_id, date_trunc('hour', ts) AS hour FROM events
      WHERE action = 'search' GROUP BY user_id, date_trunc('hour', ts)
      HAVING count(*) >= {SEARCH_BURST}) b
  ON b.user_id = e.user_id AND b.hour = date_trunc('hour', e.ts)
WHERE e.action = 'search'
""",
    "bulk_export": f"""
SELECT user_id, event_id, ts, subject_id FROM events
WHERE action IN ('export', 'print') AND outcome = 'allowed'
  AND coalesce(resource_type, '') <> 'statistics'
  AND coalesce(result_count, 0) >= {BULK_EXPORT_ROWS}
""",
    # The Minhang sale in one step: an identifiable list of 20+ deaths with the relatives' phone
    # numbers or addresses, exported or printed. Rare in any work (peer statistics would drown one
    # such list among a user's other events), so every one is an alert of its own.
    "contact_list_export": f"""
SELECT user_id, event_id, ts, subject_id FROM events
WHERE action IN ('export', 'print') AND outcome = 'allowed'
  AND coalesce(resource_type, '') <> 'statistics'
  AND coalesce(result_count, 0) >= {BULK_EXPORT_ROWS}
  AND (fields LIKE '%;relative.phone%' OR fields LIKE '%;relative.address%' OR fields LIKE '%;relative.contact%')
""",
    # Four ways to see one account in two places: use of a terminal while the account is
    # logged in on another (a login there not yet followed by its logout); a session on one
    # terminal inside the span of the account's session on another terminal (the shorter,
    # intruding one is flagged); piguard's own ``concurrent_session`` event (written at a login
    # while the account has live sessions on other terminals); and, for logs without session
    # ids, consecutive events on different terminals within 2 minutes.
    "concurrent_sessions": f"""
SELECT e.user_id, e.event_id, e.ts, e.subject_id
FROM events e
JOIN presence p ON p.user_id = e.user_id AND p.terminal_id <> e.terminal_id
  AND e.ts > p.p_start AND e.ts < p.p_end
UNION
SELECT e.user_id, e.event_id, e.ts, e.subject_id
FROM events e
JOIN sessions a ON a.user_id = e.user_id AND a.session_id = e.session_id AND a.terminal_id = e.terminal_id
WHERE EXISTS (SELECT 1 FROM sessions b
              WHERE b.user_id = a.user_id AND b.terminal_id <> a.terminal_id
                AND b.s_start <= a.s_start AND b.s_end >= a.s_end
                AND NOT (b.s_start = a.s_start AND b.s_end = a.s_end))
UNION
SELECT user_id, event_id, ts, subject_id FROM events
WHERE action = 'concurrent_session' AND outcome = 'allowed'
UNION
SELECT user_id, event_id, ts, subject_id FROM (
  SELECT user_id, event_id, ts, subject_id, terminal_id, session_id,
         lag(terminal_id) OVER (PARTITION BY user_id ORDER BY ts, event_id) AS prev_terminal,
         lag(ts) OVER (PARTITION BY user_id ORDER BY ts, event_id) AS prev_ts
  FROM events WHERE terminal_id IS NOT NULL) t
WHERE session_id IS NULL AND prev_terminal IS NOT NULL AND terminal_id <> prev_terminal
  AND ts <= prev_ts + {CONCURRENT_WINDOW}
""",
    "neighbour_lookup": f"""
SELECT user_id, event_id, ts, subject_id FROM acc
WHERE {_NOT_DIRECT} AND home_compound IS NOT NULL AND subj_compound = home_compound
  AND (user_surname IS NULL OR subj_surname IS NULL OR subj_surname <> user_surname)
""",
    "family_lookup": f"""
SELECT user_id, event_id, ts, subject_id FROM acc
WHERE {_NOT_DIRECT} AND user_surname IS NOT NULL AND subj_surname = user_surname
  AND home_compound IS NOT NULL AND subj_compound = home_compound
""",
    "breakglass_no_followup": f"""
SELECT b.user_id, b.event_id, b.ts, b.subject_id
FROM events b
WHERE (b.action = 'breakglass' OR b.purpose = 'BTG') AND b.outcome = 'allowed'
  AND NOT EXISTS (
    SELECT 1 FROM events f
    WHERE f.user_id = b.user_id AND f.subject_id = b.subject_id
      AND f.action IN ('create', 'update') AND f.ts >= b.ts AND f.ts <= b.ts + {BREAKGLASS_FOLLOWUP})
  AND NOT EXISTS (
    SELECT 1 FROM p_relationships r
    WHERE r.user_id = b.user_id AND r.subject_id = b.subject_id
      AND r.valid_from <= b.ts + {BREAKGLASS_FOLLOWUP}
      AND (r.valid_to IS NULL OR r.valid_to >= b.ts - {RELATIONSHIP_GRACE}))
""",
    # Any access to a decoy: opened (refused attempts too), or listed among a search's or
    # export's results. ``detail`` says which (``read``, ``read:denied``, ``search:results``).
    "canary_access": """
SELECT user_id, event_id, ts, subject_id,
       concat(action, CASE WHEN outcome = 'denied' THEN ':denied' ELSE '' END) AS detail
FROM acc WHERE is_canary = 1
UNION ALL
SELECT r.user_id, r.event_id, r.ts, r.subject_id, concat(r.action, ':results') AS detail
FROM event_results r JOIN p_subjects s ON s.subject_id = r.subject_id
WHERE s.is_canary = 1
  AND NOT EXISTS (SELECT 1 FROM events e WHERE e.event_id = r.event_id AND e.subject_id = r.subject_id)
""",
    # A virtual number dialled after it ended: the telephony bridge's refused resolution names the
    # person it was issued to (piguard's "handle issued to <user>"), who is the one flagged: the
    # number left their screen. Logs without that wording flag nothing here.
    "late_handle_call": f"""
SELECT holder AS user_id, event_id, ts, subject_id FROM (
  SELECT regexp_extract(reason, '{LATE_HANDLE_HOLDER}', 1) AS holder, event_id, ts, subject_id FROM events
  WHERE action = 'resolve_handle' AND outcome = 'denied' AND reason LIKE '%handle issued to %'
) h WHERE holder <> ''
""",
    "volume_spike": """
SELECT a.user_id, a.event_id, a.ts, a.subject_id
FROM acc a
JOIN spike_days d ON d.user_id = a.user_id AND d.day = CAST(a.ts AS DATE)
WHERE a.explained = 0
""",
}

# Steps read by many later statements: engines that can recompute (Spark) cache only these.
REUSED = frozenset({"expl_ev", "acc", "user_group", "user_days", "sessions", "care_orgs"})

# Helper tables some flags need, materialised after BASE.
SUPPORT: tuple[tuple[str, str], ...] = (
    ("shift_users", "SELECT DISTINCT user_id FROM p_shifts"),
    ("sessions", """
SELECT user_id, session_id, terminal_id, min(ts) AS s_start, max(ts) AS s_end
FROM events WHERE session_id IS NOT NULL AND terminal_id IS NOT NULL
GROUP BY user_id, session_id, terminal_id
"""),
    # Logged in on a terminal: from a login to the next login/logout event there (if a logout,
    # within a day; a login never closed says nothing about how long the account stayed).
    ("presence", f"""
SELECT user_id, terminal_id, ts AS p_start, next_ts AS p_end FROM (
  SELECT user_id, terminal_id, action, ts,
         lead(action) OVER (PARTITION BY user_id, terminal_id ORDER BY ts, event_id) AS next_action,
         lead(ts) OVER (PARTITION BY user_id, terminal_id ORDER BY ts, event_id) AS next_ts
  FROM events WHERE action IN ('login', 'logout') AND terminal_id IS NOT NULL AND outcome = 'allowed') t
WHERE action = 'login' AND next_action = 'logout' AND next_ts <= ts + {PRESENCE_MAX}
"""),
    # Every (UTC) day a shift with its grace touches, so that the flag can join on the day: a
    # 24-hour duty from 07:30+08:00 touches three UTC days. Shifts of up to two days are covered
    # (days are added with constant intervals, which both engines' SQL shares).
    ("shift_days", f"""
SELECT user_id, day, shift_start, shift_end FROM (
  SELECT user_id, CAST(shift_start - {SHIFT_GRACE} AS DATE) AS day, shift_start, shift_end FROM p_shifts
  UNION
  SELECT user_id, CAST(shift_start - {SHIFT_GRACE} + INTERVAL 1 DAYS AS DATE) AS day, shift_start, shift_end
  FROM p_shifts
  UNION
  SELECT user_id, CAST(shift_start - {SHIFT_GRACE} + INTERVAL 2 DAYS AS DATE) AS day, shift_start, shift_end
  FROM p_shifts
  UNION
  SELECT user_id, CAST(shift_end + {SHIFT_GRACE} AS DATE) AS day, shift_start, shift_end FROM p_shifts
) d
WHERE day <= CAST(shift_end + {SHIFT_GRACE} AS DATE)
"""),
    # Distinct records per user per day: this run's accesses plus earlier runs' history.
    ("user_days", """
SELECT user_id, day, max(n_subjects) AS n_subjects FROM (
  SELECT user_id, CAST(ts AS DATE) AS day, count(DISTINCT subject_id) AS n_subjects
  FROM acc WHERE outcome = 'allowed' GROUP BY user_id, CAST(ts AS DATE)
  UNION ALL
  SELECT user_id, day, n_subjects FROM history_days
) d
GROUP BY user_id, day
"""),
    ("user_day_stats", """
SELECT d.user_id, median(d.n_subjects) AS med, count(*) AS n_days
FROM user_days d GROUP BY d.user_id
"""),
    ("user_day_mad", """
SELECT d.user_id, median(abs(d.n_subjects - s.med)) AS mad
FROM user_days d JOIN user_day_stats s ON s.user_id = d.user_id GROUP BY d.user_id
"""),
    ("role_day_stats", """
SELECT g.role, median(d.n_subjects) AS role_med
FROM user_days d JOIN user_group g ON g.user_id = d.user_id GROUP BY g.role
"""),
    # A spike: far above both the user's own robust range and the peers' typical day.
    ("spike_days", """
SELECT d.user_id, d.day
FROM user_days d
JOIN user_day_stats s ON s.user_id = d.user_id
JOIN user_day_mad m ON m.user_id = d.user_id
JOIN user_group g ON g.user_id = d.user_id
JOIN role_day_stats r ON r.role = g.role
WHERE s.n_days >= 5
  AND d.n_subjects > s.med + 5 * greatest(1.4826 * m.mad, 1)
  AND d.n_subjects >= 3 * greatest(s.med, r.role_med, 2)
  AND EXISTS (SELECT 1 FROM acc a WHERE a.user_id = d.user_id AND CAST(a.ts AS DATE) = d.day)
"""),
)


# Flag queries that return a fifth column, ``detail`` (how the event touched the record).
WITH_DETAIL = frozenset({"canary_access"})


def flags_sql(detectors: Sequence[tuple[str, str]]) -> str:
    """Every detector's flagged events in one table: ``detector, user_id, event_id, ts, subject_id, detail``.

    One statement rather than one per detector: an engine with a per-job cost (Spark) then
    computes all flags in one job, and aggregates and evidence are two more.
    """
    parts = [f"SELECT '{name}' AS detector, user_id, event_id, ts, subject_id, "
             f"{'detail' if name in WITH_DETAIL else 'CAST(NULL AS STRING) AS detail'} FROM ({sql}) f{i}"
             for i, (name, sql) in enumerate(detectors)]
    return "\nUNION ALL\n".join(parts)


def aggregate_sql(flags: str) -> str:
    """Per detector and user: count of flagged events and distinct subjects, first and last time."""
    return f"""
SELECT detector, user_id, count(*) AS n_events, count(DISTINCT subject_id) AS n_subjects,
       CAST(min(ts) AS STRING) AS first_ts, CAST(max(ts) AS STRING) AS last_ts
FROM {flags} GROUP BY detector, user_id
"""


def evidence_sql(flags: str, *, per_user: int = EVIDENCE_PER_USER) -> str:
    """The earliest ``per_user`` flagged events of each detector and user (evidence for the reasons)."""
    return f"""
SELECT detector, user_id, event_id, CAST(ts AS STRING) AS ts, subject_id, detail FROM (
  SELECT detector, user_id, event_id, ts, subject_id, detail,
         row_number() OVER (PARTITION BY detector, user_id ORDER BY ts, event_id, subject_id) AS rn
  FROM {flags}) t
WHERE rn <= {per_user}
"""


EXPLAINED_SQL = """
SELECT count(*) AS n, coalesce(sum(explained), 0) AS n_explained FROM acc
"""
GROUPS_SQL = "SELECT user_id, role, org_id FROM user_group"
HISTORY_OUT_SQL = "SELECT user_id, CAST(day AS STRING) AS day, n_subjects FROM user_days"


def timeline_sql(users_view: str, *, per_user: int = 2000) -> str:
    """Accesses of the users in ``users_view`` for the report's timelines (capped per user)."""
    return f"""
SELECT user_id, CAST(ts AS STRING) AS ts, explained FROM (
  SELECT a.user_id, a.ts, a.explained,
         row_number() OVER (PARTITION BY a.user_id ORDER BY a.ts DESC) AS rn
  FROM acc a JOIN {users_view} w ON w.user_id = a.user_id) t
WHERE rn <= {per_user}
"""
