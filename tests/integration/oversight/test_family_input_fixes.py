"""Relatives' requests after the outside audit: a proof holding a document number is refused without
being echoed (API and CLI); an unknown state filter is bad input on the command line."""

from __future__ import annotations

from typer.testing import CliRunner

from piguard.cli.main import app
from tests.integration.oversight.test_family_api import Site
from tests.integration.oversight.test_family_api import site as site  # the fixture (API)
from tests.integration.oversight.test_family_cli import report_id as report_id  # the fixture (CLI)

runner = CliRunner()
ID_NUMBER = "310101199001011234"


def test_a_proof_with_a_document_number_is_refused_without_echoing_it(site: Site) -> None:
    for proof in (f"ID {ID_NUMBER}", "passport E1234 5678", "身份证号３１０１０１１９９０"):
        refused = site.register(proof=proof)
        assert refused.status_code == 422, refused.text
        assert refused.json()["errors"][0]["field"] == "proof" and "never their numbers" in refused.text
        assert proof not in refused.text and ID_NUMBER not in refused.text
    assert site.register(proof="ID card seen 2025-03-01; household register").status_code == 201  # a date is fine


def test_the_cli_refuses_an_unknown_state_and_a_numbered_proof(report_id: str) -> None:
    result = runner.invoke(app, ["family", "list", "--as", "sun.li", "--state", "bogus"])
    assert result.exit_code == 2 and "--state" in result.output, result.output
    assert runner.invoke(app, ["family", "list", "--as", "sun.li", "--state", "received"]).exit_code == 0
    made = runner.invoke(
        app,
        [
            "family", "request", "--as", "sun.li", "--report", report_id, "--name", "王小明",
            "--relationship", "child", "--proof", f"ID {ID_NUMBER}",
        ],
    )  # fmt: skip
    assert made.exit_code == 2 and "proof" in made.output and ID_NUMBER not in made.output, made.output
