"""A validation error reads as its rule: pydantic's own prefixes are not shown to people."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ValidationError, field_validator

from piguard.errors import validation_reason


class _Form(BaseModel):
    proof: str

    @field_validator("proof")
    @classmethod
    def _no_numbers(cls, value: str) -> str:
        if any(ch.isdigit() for ch in value):
            raise ValueError("describe the documents checked, never their numbers")
        return value


def test_a_validators_message_loses_pydantics_prefix() -> None:
    with pytest.raises(ValidationError) as failed:
        _Form(proof="ID 310112")
    first = failed.value.errors()[0]
    assert str(first["msg"]).startswith("Value error, ")
    assert validation_reason(first) == "describe the documents checked, never their numbers"


def test_other_messages_are_kept() -> None:
    with pytest.raises(ValidationError) as failed:
        _Form.model_validate({})
    assert validation_reason(failed.value.errors()[0]) == "Field required"
    assert validation_reason({}) == "invalid"
