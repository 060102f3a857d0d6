"""The token lookup's columns and the row type it is read into agree, name for name."""

from __future__ import annotations

from piguard.identity import sessions


def test_token_row_fields_follow_the_statement_columns() -> None:
    assert sessions._TOKEN_SESSION.names == sessions._TokenRow._fields
