"""The course every account must pass, apart from the SQLAlchemy-heavy training gate.

Kept light so the CLI can show it as an option default without importing the database layer.
"""

from __future__ import annotations

MANDATORY_COURSE = "privacy-basics"
