"""Database plumbing: declarative base, engine and session factories, migrations."""

from piguard.db.base import Base, utcnow
from piguard.db.engine import make_engine, make_session_factory

__all__ = ["Base", "make_engine", "make_session_factory", "utcnow"]
