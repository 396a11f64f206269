from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings

pytestmark = pytest.mark.django_db


def test_pages_are_chinese_even_for_an_english_browser(client: Any) -> None:
    body = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert 'lang="zh-hans"' in body
    assert "登录邻里通" in body


def test_english_when_the_person_chooses_it(client: Any) -> None:
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login/"})
    assert response.status_code == 302
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    body = client.get("/accounts/login/").content.decode()
    assert "Log in to Linli" in body
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    assert "登录邻里通" in client.get("/accounts/login/").content.decode()
