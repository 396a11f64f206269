"""Browser journeys in Debian's Chromium, against pytest-django's live server.

No browser is ever downloaded: Playwright drives the system Chromium
(`apt-get install chromium fonts-noto-cjk`; another binary with LINLI_CHROMIUM).
Screenshots of every journey land in test-artifacts/e2e/ for a person to look at.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page

CHROMIUM = os.environ.get("LINLI_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",  # CI runs as root in a container, where the sandbox cannot start
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "e2e"
PASSWORD = "correct-horse-42"  # the personas' password (root conftest.py)

DESKTOP: dict[str, Any] = {"viewport": {"width": 1366, "height": 900}}
PHONE: dict[str, Any] = {
    "viewport": {"width": 375, "height": 812},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}


@pytest.fixture(scope="session", autouse=True)
def _allow_orm_beside_playwright() -> Iterator[None]:
    """Playwright's sync API runs an asyncio loop in this thread, so Django would refuse the
    ORM calls that factories, the test database set-up and assertions make here. Nothing in
    these tests is async. Set for the browser tests only, not for the whole process (this
    conftest is imported by every run, also when `-m "not e2e"` deselects these tests)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        yield


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    if not Path(CHROMIUM).is_file():
        reason = f"no Chromium at {CHROMIUM}: apt-get install chromium fonts-noto-cjk"
        if os.environ.get("REQUIRE_SERVICES") == "1" or os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.when == "call":
        item.stash[_CALL_FAILED] = report.failed
    return report


_CALL_FAILED = pytest.StashKey[bool]()


def _artifact(name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS / f"{re.sub(r'[^A-Za-z0-9_.-]+', '-', name)}.png"


@pytest.fixture
def browse(
    new_context: Callable[..., BrowserContext], live_server: Any, request: pytest.FixtureRequest
) -> Iterator[Callable[..., Page]]:
    """`browse(**PHONE)` opens a page in a fresh context (zh-CN, the live server as base URL).

    If the test fails, the page as it was is saved as <test name>-failed.png.
    """
    pages: list[Page] = []

    def open_page(**context_args: Any) -> Page:
        context = new_context(
            base_url=live_server.url,
            locale="zh-CN",
            timezone_id="Asia/Shanghai",
            **context_args,
        )
        context.set_default_timeout(10_000)
        page = context.new_page()
        pages.append(page)
        return page

    yield open_page
    if request.node.stash.get(_CALL_FAILED, False):
        for n, page in enumerate(pages):
            if not page.is_closed():
                page.screenshot(
                    path=_artifact(f"{request.node.originalname}--failed{n or ''}"), full_page=True
                )


@pytest.fixture
def screenshot(request: pytest.FixtureRequest) -> Callable[..., Path]:
    """`screenshot(page)` saves test-artifacts/e2e/<test name>.png (`step=` adds a suffix)."""

    def save(page: Page, step: str = "") -> Path:
        path = _artifact(request.node.originalname + (f"--{step}" if step else ""))
        page.screenshot(path=path, full_page=True)
        return path

    return save


def log_in(page: Page, phone: str, password: str = PASSWORD) -> None:
    """Fill the phone-number login form and wait for the page it leads to."""
    page.goto("/accounts/login/")
    page.locator("#id_username").fill(phone)
    page.locator("#id_password").fill(password)
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()
    assert "/accounts/login/" not in page.url, "login failed: still on the login page"


def page_width(page: Page) -> int:
    """How wide the document is; wider than the viewport means sideways scrolling."""
    return int(
        page.evaluate(
            "() => Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"
        )
    )


def pytest_configure(config: pytest.Config) -> None:
    # pytest-base-url (pulled in by pytest-playwright) declares `base_url` in a way pytest 9
    # deprecates; nothing here can change that, and the journeys pass base_url themselves.
    config.addinivalue_line(
        "filterwarnings", "ignore:Session-scoped fixtures defined as instance methods"
    )
