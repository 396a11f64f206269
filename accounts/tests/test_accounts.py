from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import authenticate
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts.models import User
from accounts.phone import mask_phone, normalize_phone, validate_mobile

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("13800138000", "13800138000"),
        ("138 0013 8000", "13800138000"),
        ("138-0013-8000", "13800138000"),
        ("+86 138 0013 8000", "13800138000"),
        ("008613800138000", "13800138000"),
        ("8613800138000", "13800138000"),
    ],
)
def test_phone_numbers_are_normalised(raw: str, expected: str) -> None:
    assert normalize_phone(raw) == expected


@pytest.mark.parametrize("bad", ["12800138000", "1380013800", "138001380001", "abc", ""])
def test_non_mainland_mobile_numbers_are_rejected(bad: str) -> None:
    with pytest.raises(ValidationError):
        validate_mobile(bad)


def test_phone_is_masked_in_the_middle() -> None:
    assert mask_phone("13800138000") == "138****8000"
    assert mask_phone("") == ""


def test_user_is_created_with_normalised_phone() -> None:
    user = User.objects.create_user("+86 139-0000-1111", "a-Strong-pass-1", name="张三")
    assert user.phone == "13900001111"


def test_login_accepts_the_number_in_any_format(rf: Any) -> None:
    User.objects.create_user("13900001111", "a-Strong-pass-1")
    request = rf.post("/accounts/login/")
    assert authenticate(request, username="139 0000 1111", password="a-Strong-pass-1")
    assert authenticate(request, username="13900001111", password="wrong") is None


def test_login_page_speaks_chinese(client: Any) -> None:
    response = client.get(reverse("accounts:login"))
    body = response.content.decode()
    assert response.status_code == 200
    assert 'lang="zh-hans"' in body
    assert "手机号" in body
    assert "登录" in body


def test_wrong_password_shows_a_chinese_message(client: Any) -> None:
    User.objects.create_user("13900001111", "a-Strong-pass-1")
    response = client.post(
        reverse("accounts:login"), {"username": "13900001111", "password": "nope"}
    )
    assert "手机号或密码错误" in response.content.decode()


def test_login_then_logout(client: Any) -> None:
    User.objects.create_user("13900001111", "a-Strong-pass-1")
    response = client.post(
        reverse("accounts:login"), {"username": "139 0000 1111", "password": "a-Strong-pass-1"}
    )
    assert response.status_code == 302
    assert "_auth_user_id" in client.session
    client.post(reverse("accounts:logout"))
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("weak", ["12345678901", "password", "abcdefghijk", "short1"])
def test_weak_passwords_are_refused_on_password_change(client: Any, weak: str) -> None:
    user = User.objects.create_user("13900001111", "a-Strong-pass-1")
    client.force_login(user)
    response = client.post(
        reverse("accounts:password-change"),
        {"old_password": "a-Strong-pass-1", "new_password1": weak, "new_password2": weak},
    )
    assert response.status_code == 200  # form shown again with errors
    user.refresh_from_db()
    assert user.check_password("a-Strong-pass-1")


def test_strong_password_change_works(client: Any) -> None:
    user = User.objects.create_user("13900001111", "a-Strong-pass-1")
    client.force_login(user)
    response = client.post(
        reverse("accounts:password-change"),
        {
            "old_password": "a-Strong-pass-1",
            "new_password1": "Qingsong-Garden-2026",
            "new_password2": "Qingsong-Garden-2026",
        },
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("Qingsong-Garden-2026")
