from __future__ import annotations

from typing import Any

import pytest

from volunteers.models import Post
from volunteers.services import TEN_POSTS, posts_install

pytestmark = pytest.mark.django_db


def test_the_ten_posts_are_installed_once_and_edits_are_kept(world: Any) -> None:
    assert posts_install(community=world.home) == 10
    names = set(Post.objects.filter(community=world.home).values_list("name", flat=True))
    assert {"治安巡逻", "交通值守", "矛盾调解", "文体活动"} <= names
    Post.objects.filter(community=world.home, code="traffic-duty").update(schedule="每天7:00-8:00")
    assert posts_install(community=world.home) == 0
    assert Post.objects.get(community=world.home, code="traffic-duty").schedule == "每天7:00-8:00"
    assert posts_install(community=world.other) == len(TEN_POSTS)
