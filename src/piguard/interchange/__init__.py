"""The records of FORMATS.md and their one reader/writer per format."""

from piguard.interchange.context import (
    ContextTables,
    OrgRow,
    RelationshipRow,
    ShiftRow,
    SubjectRow,
    UserRow,
    iter_table,
    read_context,
    write_context,
    write_table,
)
from piguard.interchange.events import AccessEvent, read_events, write_events
from piguard.interchange.labels import (
    Complaint,
    Label,
    MaliciousEvent,
    read_complaints,
    read_labels,
    read_malicious_events,
    write_complaints,
    write_labels,
    write_malicious_events,
)
from piguard.interchange.tabular import Row, read_rows, write_rows

__all__ = [
    "AccessEvent",
    "Complaint",
    "ContextTables",
    "Label",
    "MaliciousEvent",
    "OrgRow",
    "RelationshipRow",
    "Row",
    "ShiftRow",
    "SubjectRow",
    "UserRow",
    "iter_table",
    "read_complaints",
    "read_context",
    "read_events",
    "read_labels",
    "read_malicious_events",
    "read_rows",
    "write_complaints",
    "write_context",
    "write_events",
    "write_labels",
    "write_malicious_events",
    "write_rows",
    "write_table",
]
