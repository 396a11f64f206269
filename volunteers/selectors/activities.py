"""Sign-up lists: an activity's roster and waiting list, a volunteer's own sign-ups."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from volunteers.models import Activity, SignUp
from volunteers.services.common import may_manage_activity


def activity_signups(*, user: Any, activity: Activity) -> QuerySet[SignUp]:
    """Active sign-ups of an activity, places first then the waiting list in order."""
    if not may_manage_activity(user, activity):
        return SignUp.objects.none()
    return (
        SignUp.objects.filter(activity=activity, status__in=SignUp.ACTIVE)
        .select_related("user")
        .order_by("status", "position", "created_at", "pk")  # signed_up < waiting
    )


def user_signups(*, user: Any) -> QuerySet[SignUp]:
    """The acting volunteer's own active sign-ups, soonest activity first."""
    if user is None or not user.is_authenticated:
        return SignUp.objects.none()
    return (
        SignUp.objects.filter(user=user, status__in=SignUp.ACTIVE)
        .select_related("activity")
        .order_by("activity__starts_at", "pk")
    )
