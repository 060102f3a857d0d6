"""``piguard inspections recommend`` creates rectification items: without ``--owner`` (or a file with
items) it is bad input naming the option; a reference number recorded twice is refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from typer.testing import CliRunner

from piguard.cli.main import app
from tests.integration.oversight.test_inspections_cli import site as site  # the fixture

runner = CliRunner()


def test_recommend_needs_an_owner_for_its_items(site: dict[str, str]) -> None:
    today = datetime.now(UTC).date().isoformat()
    base = ["inspections", "recommend", "--as", "sun.li", "--ref", "AUD-1", "--authority", "Hospital internal audit"]
    base += ["--issued-on", today, "--text", "Restrict cross-hospital queries", "--source", "internal_audit"]
    bare = runner.invoke(app, base)
    assert bare.exit_code == 2 and "--owner" in bare.output, bare.output
    deadline = (datetime.now(UTC) + timedelta(days=10)).date().isoformat()
    item = ["--owner", site["hosp"], "--responsible", "chen.jie", "--deadline", deadline, "--evidence", "export"]
    made = runner.invoke(app, [*base, *item])
    assert made.exit_code == 0, made.output
    twice = runner.invoke(app, [*base, *item])
    assert twice.exit_code == 4 and "reference_no" in twice.output, twice.output
