from __future__ import annotations

import datetime as dt

import factory
from factory.django import DjangoModelFactory

from community.tests.factories import CommunityFactory
from volunteers.models import Activity, Post, Team

NOW = dt.datetime(2026, 11, 7, 1, 0, tzinfo=dt.UTC)  # a Saturday, 09:00 in Shanghai
HOUR = dt.timedelta(hours=1)


class TeamFactory(DjangoModelFactory):
    class Meta:
        model = Team

    community = factory.SubFactory(CommunityFactory)
    kind = Team.Kind.SERVICE
    name = factory.Sequence(lambda n: f"便民服务队{n}")


class PostFactory(DjangoModelFactory):
    class Meta:
        model = Post

    community = factory.SubFactory(CommunityFactory)
    code = factory.Sequence(lambda n: f"post-{n}")
    name = factory.Sequence(lambda n: f"岗位{n}")


class ActivityFactory(DjangoModelFactory):
    """An activity starting two hours after NOW and lasting two hours."""

    class Meta:
        model = Activity

    community = factory.SubFactory(CommunityFactory)
    title = factory.Sequence(lambda n: f"周六便民服务日{n}")
    kind = Activity.Kind.SERVICE_DAY
    place = "社区广场"
    starts_at = NOW + 2 * HOUR
    ends_at = NOW + 4 * HOUR
    capacity = 5
