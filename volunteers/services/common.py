"""Who may run an activity: staff of its community, or the leader of its team."""

from __future__ import annotations

from typing import Any

from community.models import Membership
from community.scoping import is_community_office
from volunteers.models import Activity

STAFF_ROLES = (Membership.Role.COMMUNITY_STAFF, Membership.Role.COMMUNITY_ADMIN)


def is_community_staff(user: Any, community_id: int) -> bool:
    """True for a superuser or active community staff/admin of the community.

    Read from the per-request scope (community.scoping), not another Membership query;
    like every other role check, a deactivated account is no one's staff.
    """
    return is_community_office(user, community_id)


def may_manage_activity(user: Any, activity: Activity) -> bool:
    """Staff of the activity's community, or the leader of the team running it."""
    team = activity.team if activity.team_id is not None else None
    if team is not None and user is not None and user.pk is not None and team.leader_id == user.pk:
        return True
    return is_community_staff(user, activity.community_id)
