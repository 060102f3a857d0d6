"""training completion recorded at

Adds ``training_completions.recorded_at``: when a completion was entered, as against the date it
was taken (``completed_at``), so that a completion dated back does not change the training
coverage of a month already reported. Rows entered before this revision get their completion
date, the best that is known of them (the ledger's ``training_completion`` events hold the
exact times).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 00:35:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import piguard.db.base

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("training_completions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("recorded_at", piguard.db.base.UTCDateTime(timezone=True), nullable=True))
    op.execute("UPDATE training_completions SET recorded_at = completed_at")
    with op.batch_alter_table("training_completions", schema=None) as batch_op:
        batch_op.alter_column("recorded_at", existing_type=piguard.db.base.UTCDateTime(timezone=True), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("training_completions", schema=None) as batch_op:
        batch_op.drop_column("recorded_at")
