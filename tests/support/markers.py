"""Narrow a test that uses ``database_url`` (directly or not) to some databases."""

from __future__ import annotations

import pytest


def only(*kinds: str) -> pytest.MarkDecorator:
    """``@only("sqlite")``: run on these databases only; ids stay ``test_x[sqlite]``."""
    return pytest.mark.parametrize("database_url", list(kinds), indirect=True)
