"""training course binds from

Adds ``training_courses.binds_from``: when a mandatory course starts to gate access. New
mandatory courses get an adoption period (30 days by default) so that adding one does not lock
every account out at once. Courses added before this revision bound when they were added: they
get their creation time.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 01:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import piguard.db.base

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("training_courses", schema=None) as batch_op:
        batch_op.add_column(sa.Column("binds_from", piguard.db.base.UTCDateTime(timezone=True), nullable=True))
    op.execute("UPDATE training_courses SET binds_from = created_at")
    with op.batch_alter_table("training_courses", schema=None) as batch_op:
        batch_op.alter_column("binds_from", existing_type=piguard.db.base.UTCDateTime(timezone=True), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("training_courses", schema=None) as batch_op:
        batch_op.drop_column("binds_from")
