"""PIPL: a database dump must not contain a readable national ID number."""

from __future__ import annotations

import shutil
import subprocess
from typing import Any

import pytest
from django.db import connection

from community.services import resident_create
from community.tests.factories import HouseholdFactory

SAMPLE = "11010519491231002X"


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_pg_dump_contains_no_plaintext_id_number(require_postgres: Any) -> None:
    if not shutil.which("pg_dump"):
        pytest.fail("pg_dump is not installed (Debian: postgresql-client)")
    resident_create(actor=None, household=HouseholdFactory(), name="张三", id_number=SAMPLE)
    params = connection.get_connection_params()
    dump = subprocess.run(
        [
            "pg_dump",
            "--data-only",
            "-h",
            params.get("host") or "127.0.0.1",
            "-p",
            str(params.get("port") or 5432),
            "-U",
            params.get("user") or "postgres",
            params["dbname"] if "dbname" in params else params["database"],
        ],
        capture_output=True,
        text=True,
        check=True,
        env={"PGPASSWORD": params.get("password") or "", "PATH": "/usr/bin:/bin"},
    ).stdout
    assert "张三" in dump  # the dump really holds the resident...
    assert SAMPLE not in dump  # ...but not the ID number in any form
    assert SAMPLE[:17] not in dump
    assert "110105********002X" in dump
