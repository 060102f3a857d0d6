"""The ledger holds the names of the fields disclosed, never their values.

Real guarded reads (allowed and denied) of the records world, then every stored leaf is read
raw from the database and searched for each personal value of that world.
"""

from __future__ import annotations

import json
import re

from sqlalchemy import text
from sqlalchemy.orm import Session

from piguard.ledger import service as ledger
from piguard.records import dispatch_flows, flows
from tests.integration.records.conftest import CALLER_PHONE, RELATIVE_PHONE, World, world  # noqa: F401

VALUES = (
    RELATIVE_PHONE,
    CALLER_PHONE,
    "李秀英",
    "张桂兰",
    "310112194503070046",
    "0046",
    "王小明",
    "急性心肌梗死",
    "I21.9",
    "闵行区某路1号",
    "莘庄镇某路1号",
    "门禁找保安",
    "意识丧失",
)


def test_leaves_name_fields_and_hold_no_values(session: Session, world: World) -> None:  # noqa: F811
    before = ledger.count(session=session)
    people = world.people
    reads = [
        flows.read_report(session=session, guard=world.guard, principal=people[who], report_id=report, purpose=purpose)
        for who, report, purpose in (
            ("certifier", world.report_a, "TREAT"),
            ("coder", world.report_a, "PUBLIC_HEALTH"),
            ("broker", world.report_a, "TREAT"),  # denied
            ("broker", world.report_b, "TREAT"),
        )
    ]
    shown = [read.value for read in reads if read.allowed]
    assert len(shown) >= 2
    flows.search_reports(
        session=session, guard=world.guard, principal=people["broker"], q=None, district="310112", purpose="TREAT"
    )
    display = dispatch_flows.display(
        session=session, guard=world.guard, principal=people["emt"], dispatch_id=world.dispatch, purpose="TREAT"
    )
    assert ledger.count(session=session) == before + 6
    disclosed = json.dumps([v.model_dump(mode="json") for v in [*shown, display.value] if v is not None])
    assert any(value in disclosed for value in VALUES), "the reads should have shown some values"
    leaves = [bytes(row[0]) for row in session.execute(text("SELECT data FROM ledger_entries ORDER BY idx"))]
    assert len(leaves) == ledger.count(session=session)
    for leaf in leaves:
        decoded = leaf.decode("utf-8")
        for value in VALUES:
            assert value not in decoded, f"a ledger leaf holds the value {value!r}"
    events = list(ledger.iter_events(session=session))[before:]
    named = {field for event in events for field in event.fields}
    assert named, "allowed reads name the fields they disclosed"
    odd = [field for field in named if not re.fullmatch(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*", field)]
    assert not odd, f"field entries that are not field names: {odd}"  # e.g. access_notes, death.cause
