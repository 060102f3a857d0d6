"""The records of FORMATS.md and their one reader/writer per format."""

from piguard.interchange.events import AccessEvent, read_events, write_events
from piguard.interchange.tabular import Row, read_rows, write_rows

__all__ = ["AccessEvent", "Row", "read_events", "read_rows", "write_events", "write_rows"]
