"""Who may run an activity: staff of its community, or the leader of its team."""

from __future__ import annotations

from typing import Any

from community.models import Membership
from volunteers.models import Activity

STAFF_ROLES = (Membership.Role.COMMUNITY_STAFF, Membership.Role.COMMUNITY_ADMIN)


def is_community_staff(user: Any, community_id: int) -> bool:
    """True for a superuser or active community staff/admin of the community."""
    if user is None or not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    return Membership.objects.filter(
        user=user, is_active=True, role__in=STAFF_ROLES, community_id=community_id
    ).exists()


def may_manage_activity(user: Any, activity: Activity) -> bool:
    """Staff of the activity's community, or the leader of the team running it."""
    team = activity.team if activity.team_id is not None else None
    if team is not None and user is not None and user.pk is not None and team.leader_id == user.pk:
        return True
    return is_community_staff(user, activity.community_id)
