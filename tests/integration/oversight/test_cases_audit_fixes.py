"""Cases after the outside audit: people named must exist, bounded history numbers, reopening a
finding, and the suspect as assignee a conflict of interest (REST on SQLite and PostgreSQL, CLI)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from piguard.cli.main import app
from tests.integration.oversight.test_cases_api import BASE, Site
from tests.integration.oversight.test_cases_api import site as site  # the fixture
from tests.integration.oversight.test_cases_cli import data_dir as data_dir  # the fixture

runner = CliRunner()


def _field(response: Any) -> str:
    assert response.status_code == 422, response.text
    return str(response.json()["errors"][0]["field"])


def _substantiated(site: Site, **overrides: Any) -> str:
    case = site.open(**overrides)
    assert site.move(case["id"], "investigating").status_code == 200
    assert site.move(case["id"], "substantiated").status_code == 200
    return str(case["id"])


def test_unknown_people_are_refused_naming_the_field(site: Site) -> None:
    headers = site.h("officer")
    body = {
        "title": "Complaint about an unknown person",
        "source": "manual",
        "assignee_id": site.ids["officer"],
        "reason": "the family named someone",
    }
    assert _field(site.client.post(BASE, json={**body, "suspect_user_id": "nobody.x"}, headers=headers)) == (
        "suspect_user_id"
    )
    alert = {"alert_id": "al-7", "user_id": site.ids["broker"], "score": 0.9, "severity": "high"}
    ghosts = {**alert, "subject_ids": ["subj-1", "ghost-1", "ghost-2"]}
    refused = site.client.post(BASE, json={**body, "source": "alert", "alert": ghosts}, headers=headers)
    assert _field(refused) == "alert.subject_ids" and "2 of the alert's 3 subject ids" in refused.json()["detail"]
    stranger = {**alert, "user_id": "u123", "subject_ids": ["subj-1"]}
    assert _field(site.client.post(BASE, json={**body, "source": "alert", "alert": stranger}, headers=headers)) == (
        "alert.user_id"
    )
    case_id = _substantiated(site)
    disposition = {
        "kind": "warning",
        "target_user_id": "nobody.x",
        "effective_date": "2099-01-01",
        "authority": "Minhang District Health Commission",
        "reason": "unauthorised lookups of deceased",
    }
    proposed = site.client.post(f"{BASE}/{case_id}/dispositions", json=disposition, headers=headers)
    assert _field(proposed) == "target_user_id"


def test_a_huge_history_number_is_422_not_a_server_error(site: Site) -> None:
    case = site.open()
    response = site.client.post(
        f"{BASE}/{case['id']}/corrections",
        json={"corrects_seq": 10**30, "reason": "the wrong entry was named"},
        headers=site.h("officer"),
    )
    assert _field(response) == "corrects_seq"


def test_a_finding_is_changed_by_reopening_the_investigation(site: Site) -> None:
    case_id = _substantiated(site, assignee_id=site.ids["second"])  # second investigates no other case here
    assert site.read("second", "report_a").status_code == 403  # no longer investigating
    direct = site.move(case_id, "unsubstantiated")
    assert direct.status_code == 409 and "move it to investigating first" in direct.json()["detail"]
    reopened = site.move(case_id, "investigating")
    assert reopened.status_code == 200 and reopened.json()["state"] == "investigating"
    assert site.read("second", "report_a").status_code == 200  # the investigator reads the records again
    assert site.move(case_id, "unsubstantiated").status_code == 200
    history = site.client.get(f"{BASE}/{case_id}", headers=site.h("admin")).json()["history"]
    steps = [(h["from_state"], h["to_state"]) for h in history if h["kind"] == "transition"]
    assert steps[-2:] == [("substantiated", "investigating"), ("investigating", "unsubstantiated")]


def test_a_finding_with_an_approved_disposition_is_not_reopened(site: Site) -> None:
    case_id = _substantiated(site)
    proposed = site.client.post(
        f"{BASE}/{case_id}/dispositions",
        json={
            "kind": "warning",
            "target_user_id": site.ids["broker"],
            "effective_date": "2099-01-01",
            "authority": "Minhang District Health Commission",
            "reason": "unauthorised lookups of deceased",
        },
        headers=site.h("officer"),
    )
    assert proposed.status_code == 201, proposed.text
    pending = site.move(case_id, "investigating")
    assert pending.status_code == 409 and "decide them first" in pending.json()["detail"]
    approved = site.client.post(
        f"{BASE}/{case_id}/dispositions/{proposed.json()['id']}/approve",
        json={"reason": "the warning is in order"},
        headers=site.h("second"),
    )
    assert approved.status_code == 200, approved.text
    refused = site.move(case_id, "investigating")
    assert refused.status_code == 409 and "approved disposition" in refused.json()["detail"]


def test_assigning_to_the_suspect_is_a_conflict_of_interest_and_to_a_non_officer_names_assignee_id(
    site: Site,
) -> None:
    case = site.open(suspect_user_id=site.ids["second"])
    headers = site.h("admin")
    to_suspect = site.client.post(
        f"{BASE}/{case['id']}/assignee",
        json={"assignee_id": site.ids["second"], "reason": "handing it to the suspect"},
        headers=headers,
    )
    assert to_suspect.status_code == 403 and "conflict of interest" in to_suspect.json()["detail"]
    last = site.last_event()
    assert last.outcome == "denied" and last.reason is not None and "conflict of interest" in last.reason
    to_physician = site.client.post(
        f"{BASE}/{case['id']}/assignee",
        json={"assignee_id": site.ids["broker"], "reason": "handing it to a physician"},
        headers=headers,
    )
    assert _field(to_physician) == "assignee_id"


def test_the_cli_refuses_an_unknown_person_naming_the_option(data_dir: Path) -> None:
    args = ["cases", "open", "--as", "sun.li", "--title", "Complaint about someone", "--assignee", "sun.li"]
    args += ["--reason", "the family named someone", "--suspect", "nobody.x"]
    result = runner.invoke(app, args)
    assert result.exit_code == 2 and "--suspect" in result.output, result.output
    opened = runner.invoke(app, [*args[:-1], "chen.jie", "--subject", "subj-1"])
    assert opened.exit_code == 0, opened.output
    case_id = opened.output.split("opened case ")[1].split()[0]
    for state in ("investigating", "substantiated"):
        moved = runner.invoke(
            app, ["cases", "transition", case_id, state, "--as", "sun.li", "--reason", "as found so far"]
        )
        assert moved.exit_code == 0, moved.output
    proposed = runner.invoke(
        app,
        [
            "cases", "propose", case_id, "--as", "sun.li", "--kind", "warning", "--target", "nobody.x",
            "--date", "2099-01-01", "--authority", "Commission", "--reason", "unauthorised lookups",
        ],
    )  # fmt: skip
    assert proposed.exit_code == 2 and "--target" in proposed.output, proposed.output
