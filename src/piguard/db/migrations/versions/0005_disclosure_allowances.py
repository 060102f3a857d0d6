"""disclosure allowances

One row per account: how much of its allowance of record-disclosing requests it has used
(two token buckets, see ``piguard.identity.allowance``). Rows are created on an account's first
record request; dropping the table only forgets the current counts.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 15:51:07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "disclosure_allowances",
        sa.Column("account_id", sa.String(length=26), nullable=False),
        sa.Column("burst_full_ms", sa.BigInteger(), nullable=False),
        sa.Column("hour_full_ms", sa.BigInteger(), nullable=False),
        sa.Column("last_refused", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_disclosure_allowances_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_disclosure_allowances")),
    )


def downgrade() -> None:
    op.drop_table("disclosure_allowances")
