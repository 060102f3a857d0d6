"""organisation names unique in a district

Adds ``organisations.name_key`` (the name with runs of whitespace made one space, casefolded),
fills it for the existing rows and makes (district, name_key) unique. Until now the service
compared names in Python only, so rows with the same name in one district can exist; the
migration then stops before changing anything and names them, to be renamed first.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 15:50:03
"""

from __future__ import annotations

from collections import defaultdict

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_ORGS = sa.table(
    "organisations",
    sa.column("id", sa.String),
    sa.column("name", sa.String),
    sa.column("district", sa.String),
    sa.column("name_key", sa.String),
)


def _name_key(name: str) -> str:
    # A copy of piguard.records.models.org_name_key as of this revision (migrations stay fixed).
    return " ".join(name.split()).casefold()


def _keys_or_fail() -> dict[str, str]:
    """Each existing organisation's name key; RuntimeError naming the clashes if any."""
    rows = op.get_bind().execute(sa.select(_ORGS.c.id, _ORGS.c.name, _ORGS.c.district)).all()
    groups: dict[tuple[str, str], list[str]] = defaultdict(list)
    for org_id, name, district in rows:
        groups[(district, _name_key(name))].append(f"{name!r} ({org_id})")
    clashes = [f"district {district}: {', '.join(names)}" for (district, _), names in groups.items() if len(names) > 1]
    if clashes:
        raise RuntimeError(
            "cannot make organisation names unique in their district: these organisations have the same "
            "name (case and spacing aside) in one district; rename or merge them, then run "
            "'piguard db upgrade' again. " + "; ".join(sorted(clashes))
        )
    return {org_id: _name_key(name) for org_id, name, _ in rows}


def upgrade() -> None:
    keys = _keys_or_fail()  # before any change: a refusal leaves the schema as it was
    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("name_key", sa.String(length=600), nullable=True))
    if keys:
        fill = _ORGS.update().where(_ORGS.c.id == sa.bindparam("org_id")).values(name_key=sa.bindparam("key"))
        op.get_bind().execute(fill, [{"org_id": org_id, "key": key} for org_id, key in keys.items()])
    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.alter_column("name_key", existing_type=sa.String(length=600), nullable=False)
        batch_op.create_unique_constraint("uq_organisations_district_name_key", ["district", "name_key"])


def downgrade() -> None:
    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.drop_constraint("uq_organisations_district_name_key", type_="unique")
        batch_op.drop_column("name_key")
