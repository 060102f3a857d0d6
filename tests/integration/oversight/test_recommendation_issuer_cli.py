"""``piguard inspections`` on SQLite and PostgreSQL: a procuratorial recommendation the district commission
recorded is followed up by it; the audited hospital's officer is refused (exit 4, ``issuing-body``
reason) a deadline extension or a verdict, and cannot record one itself."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from piguard.cli.main import app
from piguard.config import Settings
from piguard.db import Base, make_engine, make_session_factory
from piguard.db.registry import load_all_models
from piguard.identity import service as identity
from piguard.keys import ensure_secret, load_secret
from piguard.ledger import service as ledger
from piguard.ledger.keys import ensure_signing_key
from piguard.records import service as records
from tests.conftest import private_database_url

runner = CliRunner()
REFUSED = "only that body's officers"


@pytest.fixture(params=["sqlite", "postgresql"])
def site(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """A district commission (sun.li), a hospital (its privacy officer wang.po, physician chen.jie)."""
    for url in private_database_url(request.param, tmp_path, prefix="issuer_cli"):
        monkeypatch.setenv("PIGUARD_DATA_DIR", str(tmp_path / "data"))
        monkeypatch.setenv("PIGUARD_DATABASE_URL", url)
        settings = Settings(data_dir=tmp_path / "data", database_url=url)
        ensure_secret(settings)
        ensure_signing_key(settings)
        load_all_models()
        engine = make_engine(settings)
        Base.metadata.create_all(engine)
        ids: dict[str, str] = {}
        with make_session_factory(engine)() as db, db.begin():
            ids["hc"] = records.create_organisation(
                session=db, name="Commission", org_type="health_commission", district="310115"
            ).id
            ids["hosp"] = records.create_organisation(
                session=db, name="Hospital", org_type="hospital", district="310115"
            ).id
            for username, role, org in (
                ("sun.li", "privacy_officer", "hc"),
                ("wang.po", "privacy_officer", "hosp"),
                ("chen.jie", "physician", "hosp"),
            ):
                made = identity.create_account(
                    session=db,
                    secret=load_secret(settings),
                    username=username,
                    display_name=username,
                    role=role,
                    org_id=ids[org],
                    password="correct horse battery",
                    demo=True,
                )
                identity.record_training(
                    session=db,
                    account_id=made.account.id,
                    course_code="privacy-basics",
                    score=90,
                    completed_at=datetime.now(UTC) - timedelta(days=1),
                )
                ids[username] = made.account.id
        yield ids
        engine.dispose()


def _run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["inspections", *args])
    return result.exit_code, result.output


def _recommend(site: dict[str, str], who: str, ref: str) -> tuple[int, str]:
    deadline = (datetime.now(UTC) + timedelta(days=60)).date().isoformat()
    return _run(
        "recommend", "--as", who, "--ref", ref, "--authority", "浦东新区人民检察院",
        "--issued-on", datetime.now(UTC).date().isoformat(), "--text", "Establish traceable follow-up",
        "--org", site["hosp"], "--owner", site["hosp"], "--responsible", "chen.jie",
        "--deadline", deadline, "--evidence", "Signed minutes of the monthly review",
    )  # fmt: skip


def test_the_issuing_commission_follows_up_and_the_hospital_cannot(site: dict[str, str], tmp_path: Path) -> None:
    code, made = _recommend(site, "sun.li", "浦检建〔2026〕7号")
    assert code == 0, made
    found = re.search(r"^│ (\S{26}) ", made, re.MULTILINE)
    assert found, made
    item = found.group(1)
    far = (datetime.now(UTC) + timedelta(days=400)).date().isoformat()
    code, output = _run("extend", item, "--as", "wang.po", "--deadline", far, "--reason", "we need more time")
    assert code == 4 and REFUSED in output and "浦检建" not in output, output
    assert "managed by issuer" in made
    document = tmp_path / "minutes.pdf"
    document.write_bytes(b"signed minutes of the first monthly review")
    code, output = _run(
        "submit", item, "--as", "chen.jie", "--description", "First minutes", "--document", str(document)
    )
    assert code == 0, output
    evidence = re.search(r"evidence (\S+) submitted", output)
    assert evidence, output
    code, output = _run("verify", item, evidence.group(1), "--as", "wang.po", "--reason", "complete, as far as we see")
    assert code == 4 and REFUSED in output, output
    code, shown = _run("items", item, "--as", "wang.po")  # the hospital still reads it
    assert code == 0 and f"followed up by the issuing body {site['hc']}" in shown, shown
    code, output = _run("extend", item, "--as", "sun.li", "--deadline", far, "--reason", "the vendor needs a release")
    assert code == 0 and "deadline of" in output, output
    code, output = _run("verify", item, evidence.group(1), "--as", "sun.li", "--reason", "the minutes are complete")
    assert code == 0 and "item is verified" in output, output
    settings = Settings()
    engine = make_engine(settings)
    with make_session_factory(engine)() as db:
        mine = [e for e in ledger.iter_events(session=db) if e.user_id == site["wang.po"] and e.resource_id == item]
    engine.dispose()
    assert [e.outcome for e in mine if e.action == "update"] == ["denied", "denied"]


def test_the_hospital_records_its_own_audit_but_not_a_procuratorial_recommendation(site: dict[str, str]) -> None:
    code, output = _recommend(site, "wang.po", "浦检建〔2026〕9号")
    assert code == 4 and "comes from outside the organisation" in output, output
    deadline = (datetime.now(UTC) + timedelta(days=30)).date().isoformat()
    code, output = _run(
        "recommend", "--as", "wang.po", "--source", "internal_audit", "--ref", "AUD-1",
        "--authority", "Hospital audit office",
        "--issued-on", datetime.now(UTC).date().isoformat(), "--text", "Shared logins",
        "--owner", site["hosp"], "--responsible", "chen.jie", "--deadline", deadline, "--evidence", "Account list",
    )  # fmt: skip
    assert code == 0 and "managed by organisation" in output, output
