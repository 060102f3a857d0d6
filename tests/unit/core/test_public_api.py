"""The curated public API: every name in ``__all__`` resolves and says what it is."""

from __future__ import annotations

import pytest

import piguard


def test_every_public_name_resolves_and_is_documented() -> None:
    for name in piguard.__all__:
        value = getattr(piguard, name)
        if name != "__version__":
            assert value.__doc__, f"{name} has no docstring"


def test_unknown_names_raise_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_thing"):
        piguard.no_such_thing  # noqa: B018
