"""``piguard orgs`` on a fresh installation (``piguard init``), then accounts in the new organisations.

Also: ``piguard users training`` applies the date rule of ``piguard training complete``, exit code included.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from piguard.cli.main import app
from piguard.config import Settings
from piguard.db import make_engine, make_session_factory
from piguard.db.registry import load_all_models
from piguard.ledger import service as ledger
from piguard.records import service as records
from tests.conftest import private_database_url

ULID = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")


@dataclass
class Install:
    """A fresh installation: the runner's environment and the ids created so far."""

    env: dict[str, str]
    settings: Settings
    ids: dict[str, str] = field(default_factory=dict)

    def run(self, *args: str) -> tuple[int, str]:
        """Invoke ``piguard ARGS``; returns exit code and combined output."""
        result = CliRunner().invoke(app, list(args), env=self.env)
        return result.exit_code, result.output

    def ok(self, *args: str) -> str:
        """Invoke ``piguard ARGS``, which must succeed; returns its output."""
        code, out = self.run(*args)
        assert code == 0, out
        return out

    def new_id(self, *args: str) -> str:
        """Invoke a command that prints one new id; returns the id."""
        printed = self.ok(*args).strip()
        assert ULID.fullmatch(printed), printed
        return printed

    def org_count(self) -> int:
        """Organisations in the database."""
        engine = make_engine(self.settings)
        with make_session_factory(engine)() as db:
            count = len(records.list_organisations(session=db))
        engine.dispose()
        return count


def _install(backend: str, tmp_path: Path) -> Iterator[Install]:
    load_all_models()
    for url in private_database_url(backend, tmp_path, prefix="orgs_cli"):
        settings = Settings(data_dir=tmp_path / "data", database_url=url)
        env = {"PIGUARD_DATA_DIR": str(settings.data_dir), "PIGUARD_DATABASE_URL": url, "COLUMNS": "200"}
        install = Install(env=env, settings=settings)
        install.ok("init")
        yield install


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Install]:
    yield from _install(request.param, tmp_path)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Install]:
    """An installation with a hospital, an emergency centre and one vehicle (shared by read-only tests)."""
    for install in _install(request.param, tmp_path_factory.mktemp("site")):
        install.ids["hosp"] = install.new_id(
            "orgs", "add", "Minhang Central Hospital", "--type", "hospital", "--district", "310112"
        )
        install.ids["ems"] = install.new_id(
            "orgs", "add", "Shanghai EMS", "--type", "emergency_center", "--district", "310000", "--level", "municipal"
        )
        install.new_id("orgs", "add-vehicle", install.ids["ems"], "--call-sign", "Minhang 1", "--terminal-id", "mdt-1")
        install.ok(
            "users", "add", "sun.li", "--name", "Sun Li", "--role", "privacy_officer", "--org", install.ids["hosp"]
        )
        install.ok("users", "training", "sun.li", "--score", "90")
        install.ok(
            "users", "add", "wang.fang", "--name", "Wang Fang", "--role", "physician", "--org", install.ids["hosp"]
        )
        yield install


def test_a_fresh_installation_gets_organisations_vehicles_then_accounts(fresh: Install) -> None:
    assert "0 organisation(s)" in fresh.ok("orgs", "list")
    code, out = fresh.run("users", "add", "wang.fang", "--name", "Wang Fang", "--role", "physician", "--org", "X")
    assert code != 0 and "no such organisation" in out
    hosp = fresh.new_id("orgs", "add", "闵行区中心医院", "--type", "hospital", "--district", "310112")
    ems = fresh.new_id(
        "orgs",
        "add",
        "上海市医疗急救中心",
        "--type",
        "emergency_center",
        "--district",
        "310000",
        "--level",
        "municipal",
    )
    cdc = fresh.new_id("orgs", "add", "闵行区疾病预防控制中心", "--type", "cdc", "--district", "310112")
    listed = fresh.ok("orgs", "list")
    assert "3 organisation(s)" in listed
    for row in (
        (hosp, "闵行区中心医院", "hospital", "310112", "district"),
        (ems, "上海市医疗急救中心", "emergency_center", "310000", "municipal"),
        (cdc, "闵行区疾病预防控制中心", "cdc", "310112", "district"),
    ):
        assert re.search(r"\s+│\s+".join(map(re.escape, row)), listed), row
    by_type = fresh.ok("orgs", "list", "--type", "hospital")
    assert "1 organisation(s)" in by_type and hosp in by_type and cdc not in by_type
    by_district = fresh.ok("orgs", "list", "--district", "310112")
    assert "2 organisation(s)" in by_district and ems not in by_district
    vehicle = fresh.new_id("orgs", "add-vehicle", ems, "--call-sign", "闵行急救站1", "--terminal-id", "mdt-0001")
    vehicles = fresh.ok("orgs", "vehicles", ems)
    assert "1 vehicle(s)" in vehicles and vehicle in vehicles and "闵行急救站1" in vehicles and "mdt-0001" in vehicles
    assert "0 vehicle(s)" in fresh.ok("orgs", "vehicles", hosp)
    added = fresh.ok("users", "add", "wang.fang", "--name", "Wang Fang", "--role", "physician", "--org", hosp)
    assert "created wang.fang (physician)" in added
    fresh.ok("users", "add", "emt.zhao", "--name", "Zhao Lei", "--role", "emt", "--org", ems)
    assert "wang.fang" in fresh.ok("users", "list", "--org", hosp)
    # Each registration is the local operator's change in the ledger, as `users disable` is.
    engine = make_engine(fresh.settings)
    with make_session_factory(engine)() as db:
        made = [
            (e.user_id, e.role, e.action, e.resource_type, e.resource_id, e.org_id)
            for e in ledger.iter_events(session=db)
            if e.resource_type in ("organisation", "vehicle")
        ]
    engine.dispose()
    assert made == [
        ("local-operator", "admin", "create", "organisation", hosp, hosp),
        ("local-operator", "admin", "create", "organisation", ems, ems),
        ("local-operator", "admin", "create", "organisation", cdc, cdc),
        ("local-operator", "admin", "create", "vehicle", vehicle, ems),
    ]
    assert fresh.run("audit", "verify")[0] == 0


@pytest.mark.parametrize(
    ("args", "field", "message"),
    [
        (("orgs", "add", "Clinic", "--type", "clinic", "--district", "310112"), "org_type", "expected one of"),
        (("orgs", "add", "Clinic", "--district", "310112"), "--type", "Missing option"),
        (("orgs", "add", "Clinic", "--type", "hospital", "--district", "3101"), "district", "6-digit"),
        (("orgs", "add", "Clinic", "--type", "hospital", "--district", "31011a"), "district", "6-digit"),
        (("orgs", "add", "Clinic", "--type", "hospital", "--district", "310112", "--level", "city"), "level", "one of"),
        (("orgs", "add", "  ", "--type", "hospital", "--district", "310112"), "name", "must not be empty"),
        (("orgs", "add", "H" * 201, "--type", "hospital", "--district", "310112"), "name", "at most 200"),
        (
            ("orgs", "add", "minhang  central hospital", "--type", "cdc", "--district", "310112"),
            "name",
            "already exists",
        ),
        (("orgs", "list", "--type", "clinic"), "org_type", "expected one of"),
        (("orgs", "list", "--district", "Minhang"), "district", "6-digit"),
        (("orgs", "add-vehicle", "HOSP", "--call-sign", "M2", "--terminal-id", "mdt-2"), "org_id", "emergency_center"),
        (("orgs", "add-vehicle", "NOPE", "--call-sign", "M2", "--terminal-id", "mdt-2"), "org_id", "no such"),
        (("orgs", "add-vehicle", "EMS", "--call-sign", "M2", "--terminal-id", "mdt 2"), "terminal_id", "printable"),
        (("orgs", "add-vehicle", "EMS", "--call-sign", "M2", "--terminal-id", "mdt-1"), "terminal_id", "already"),
        (("orgs", "add-vehicle", "EMS", "--call-sign", " ", "--terminal-id", "mdt-2"), "call_sign", "empty"),
        (("orgs", "vehicles", "NOPE"), "organisation", "not found"),
    ],
)
def test_bad_input_exits_2_naming_the_field(site: Install, args: tuple[str, ...], field: str, message: str) -> None:
    before = site.org_count()
    code, out = site.run(*(site.ids.get(a.lower(), a) for a in args))
    assert code == 2, out
    assert field in out and message in out, out
    assert "Traceback" not in out
    assert site.org_count() == before


def test_the_same_name_may_exist_in_another_district(fresh: Install) -> None:
    fresh.new_id("orgs", "add", "District CDC", "--type", "cdc", "--district", "310112")
    fresh.new_id("orgs", "add", "District CDC", "--type", "cdc", "--district", "310115")
    code, out = fresh.run("orgs", "add", "district cdc", "--type", "cdc", "--district", "310115")
    assert code == 2 and "name: 'District CDC' already exists in district 310115" in out, out


@pytest.mark.parametrize(
    ("days_ago", "message"),
    [
        (-3, "completed_at: lies in the future"),
        (400, "completed_at: older than the course's validity (365 days)"),
    ],
)
def test_users_training_refuses_the_dates_training_complete_refuses(site: Install, days_ago: int, message: str) -> None:
    when = (datetime.now(UTC) - timedelta(days=days_ago)).strftime("%Y-%m-%dT%H:%M:%S")
    operator = site.run("users", "training", "wang.fang", "--score", "90", "--completed", when)
    officer = site.run(
        "training",
        "complete",
        "wang.fang",
        "--as",
        "sun.li",
        "--course",
        "privacy-basics",
        "--score",
        "90",
        "--completed",
        when,
    )
    for code, out in (operator, officer):
        assert code == 2, out
        assert message in out and "Traceback" not in out
    assert operator[1] == officer[1]  # the very same message


def test_users_training_holds_to_the_course(site: Install) -> None:
    code, out = site.run("users", "training", "wang.fang", "--score", "70")
    assert code == 2 and "score: below the pass mark of 80" in out, out
    code, out = site.run("users", "training", "wang.fang", "--course", "no-such-course", "--score", "90")
    assert code == 2 and "course: no course 'no-such-course'" in out, out
    recent = (datetime.now(UTC) - timedelta(days=30)).replace(microsecond=0)
    out = site.ok(
        "users", "training", "wang.fang", "--score", "90", "--completed", recent.strftime("%Y-%m-%dT%H:%M:%S")
    )
    assert f"privacy-basics valid until {recent + timedelta(days=365):%Y-%m-%d}" in out


def test_the_help_names_every_organisation_type() -> None:
    # The CLI spells the types out so that `--help` need not import the records service.
    from piguard.cli import orgs

    assert all(kind in orgs.ORG_TYPE_HELP for kind in records.ORG_TYPES)
