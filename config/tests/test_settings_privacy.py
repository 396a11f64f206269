"""Settings that keep personal data out of logs and bound how fast the API is walked."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest
from django.conf import settings

from community.privacy import MaskPersonalDataFilter

WHOLE_ID = "110105199001010123"
MASKED_ID = "110105********0123"


@pytest.fixture
def captured() -> Iterator[tuple[io.StringIO, logging.Handler]]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(message)s"))
    yield stream, handler


@pytest.mark.parametrize("name", ["django.server", "django.request"])
def test_request_loggers_mask_id_numbers_in_messages_and_tracebacks(
    name: str, captured: tuple[io.StringIO, logging.Handler]
) -> None:
    stream, handler = captured
    logger = logging.getLogger(name)
    assert any(isinstance(f, MaskPersonalDataFilter) for f in logger.filters)
    logger.addHandler(handler)
    try:
        try:
            raise ValueError(f"no resident {WHOLE_ID}")
        except ValueError:
            logger.error('"GET /api/v1/residents/?search=%s HTTP/1.1" 500', WHOLE_ID, exc_info=True)
    finally:
        logger.removeHandler(handler)
    text = stream.getvalue()
    assert WHOLE_ID not in text
    assert text.count(MASKED_ID) >= 2  # the request line and the exception in the traceback
    assert "Traceback" in text


def test_server_log_lines_still_reach_a_handler() -> None:
    logger = logging.getLogger("django.server")
    assert logger.handlers, "django.server must keep a handler of its own (it does not propagate)"
    assert not logger.propagate


def test_history_revert_is_disabled() -> None:
    assert settings.SIMPLE_HISTORY_REVERT_DISABLED is True


def test_api_is_throttled_by_default_and_not_in_tests() -> None:
    framework = settings.REST_FRAMEWORK
    assert framework["DEFAULT_THROTTLE_CLASSES"] == [
        "config.throttling.UserRateThrottle",
        "config.throttling.AnonRateThrottle",
    ]
    assert set(framework["DEFAULT_THROTTLE_RATES"]) >= {"user", "anon"}
    assert all(rate is None for rate in framework["DEFAULT_THROTTLE_RATES"].values())
