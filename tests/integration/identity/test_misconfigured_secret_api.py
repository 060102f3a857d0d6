"""A secret that does not decrypt the stored TOTP seeds (a database restored with another
installation's secret, a rotation while serving): a 503 whose cause is in the server log, not a
bare 500 (SQLite and PostgreSQL)."""

from __future__ import annotations

import logging

import pytest

from piguard.identity import service as identity
from piguard.ledger import service as ledger
from tests.integration.identity.conftest import PASSWORD, Api


def test_a_login_under_the_wrong_secret_is_a_503_and_the_log_says_why(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    with api.session() as db, db.begin():
        ledger.bind_settings(db, api.settings)
        api.accounts["chen.jie"] = identity.create_account(
            session=db, secret=b"another installation's secret!!!", username="chen.jie", display_name="C",
            role="physician", org_id=api.org_id, password=PASSWORD, demo=True,
        )  # fmt: skip
    with caplog.at_level(logging.ERROR, logger="piguard.api"):
        response = api.login("chen.jie")
    assert response.status_code == 503, response.text
    assert response.json()["detail"] == "the service is misconfigured; the server log says why"
    assert PASSWORD not in response.text
    logged = " ".join(record.getMessage() for record in caplog.records)
    assert "configuration problem" in logged and "does not decrypt" in logged
