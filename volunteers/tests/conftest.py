"""Fixtures of the volunteers tests: the street's default scoring standard, which holds
the per-hour volunteering rule the confirmations award."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from credit.services import standard_install


@pytest.fixture
def standard(world: Any) -> None:
    standard_install(street=world.street, valid_from=dt.date(2026, 1, 1))
