"""`make test` (and so CI) runs every app's tests: pytest collects only its testpaths."""

from __future__ import annotations

import tomllib
from pathlib import Path

from django.apps import apps
from django.conf import settings


def test_every_project_app_with_tests_is_in_testpaths() -> None:
    base = Path(settings.BASE_DIR)
    pyproject = tomllib.loads((base / "pyproject.toml").read_text(encoding="utf-8"))
    testpaths = set(pyproject["tool"]["pytest"]["ini_options"]["testpaths"])
    with_tests = {
        Path(app.path).name
        for app in apps.get_app_configs()
        if Path(app.path).parent == base and (Path(app.path) / "tests").is_dir()
    }
    assert with_tests  # the project's own apps were found
    assert with_tests - testpaths == set()
