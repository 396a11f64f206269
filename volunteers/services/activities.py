"""Creating activities (shifts): a patrol shift, a Saturday service day, a cleanup, a round
of home visits. Community staff create them for any team of the community; a team's
leader for their own team."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from community.models import Community
from volunteers.models import Activity, Post, Team
from volunteers.services.common import is_community_staff


def _may_create(actor: Any, community: Community, team: Team | None) -> bool:
    if is_community_staff(actor, community.pk):
        return True
    # A leader plans shifts of their own team only, and only in its own community.
    return (
        team is not None
        and actor is not None
        and actor.pk is not None
        and team.leader_id == actor.pk
        and team.community_id == community.pk
    )


def _problems(
    *,
    community: Community,
    now: dt.datetime,
    title: str,
    kind: str,
    place: str,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    capacity: int,
    team: Team | None,
    post: Post | None,
    audience: str,
) -> dict[str, list[str]]:
    """What is wrong with the new activity, by field (empty when nothing is)."""
    errors: dict[str, list[str]] = {}

    def fail(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    if not title.strip():
        fail("title", _("Give the activity a title."))
    if not place.strip():
        fail("place", _("Say where the activity takes place."))
    if kind not in Activity.Kind.values:
        fail("kind", _("Choose a kind of activity."))
    if audience not in Activity.Audience.values:
        fail("audience", _("Choose who may sign up."))
    if ends_at <= starts_at:
        fail("ends_at", _("The activity must end after it starts."))
    if starts_at <= now:
        fail("starts_at", _("The activity must start in the future."))
    if capacity < 1:
        fail("capacity", _("An activity needs at least one place."))
    if team is not None and team.community_id != community.pk:
        fail("team", _("The team is not one of this community's teams."))
    if post is not None and post.community_id != community.pk:
        fail("post", _("The post is not one of this community's posts."))
    if audience == Activity.Audience.TEAM and team is None:
        fail("team", _("Choose the team whose members may sign up."))
    return errors


def activity_create(
    *,
    community: Community,
    actor: Any,
    now: dt.datetime,
    title: str,
    kind: str,
    place: str,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    capacity: int,
    team: Team | None = None,
    post: Post | None = None,
    audience: str = "open",
    signup_open: bool = True,
) -> Activity:
    """Staff of the community (or the leader of `team`, for their own team) create an
    activity; refused with a ValidationError naming each wrong field."""
    if not _may_create(actor, community, team):
        raise PermissionDenied(
            _("Only community staff, or the team's leader for their own team, create activities.")
        )
    errors = _problems(
        community=community,
        now=now,
        title=title,
        kind=kind,
        place=place,
        starts_at=starts_at,
        ends_at=ends_at,
        capacity=capacity,
        team=team,
        post=post,
        audience=audience,
    )
    if errors:
        raise ValidationError(errors)
    activity = Activity(
        community=community,
        title=title.strip(),
        kind=kind,
        place=place.strip(),
        starts_at=starts_at,
        ends_at=ends_at,
        team=team,
        post=post,
        capacity=capacity,
        audience=audience,
        signup_open=signup_open,
    )
    activity._history_user = actor  # type: ignore[attr-defined]
    with transaction.atomic(durable=True):
        activity.save()
    return activity
