"""The menu every page shows: the places this person's roles lead to, and the unread badge
(templates/base.html)."""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.http import HttpRequest
from django.urls import reverse
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext_lazy as _

from accounts.notifications.selectors import inbox_unread_count
from community.scoping import scope_for

_STAFF = {"community_admin", "community_staff"}


def _serves_in_a_team(user: Any) -> bool:
    # Only asked of people with neither a household nor a role (an in-service party
    # member from a partner unit): everybody else's pages keep their query counts.
    from volunteers.models import PartyMemberRegistration, Team  # volunteers sits above

    serves = Q(leader=user) | Q(members__user=user, members__left_at__isnull=True)
    reported = PartyMemberRegistration.objects.filter(
        user=user, status=PartyMemberRegistration.Status.CONFIRMED
    )
    return Team.objects.filter(serves).exists() or reported.exists()


def linli_nav(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"linli_nav": []}
    scope = scope_for(user)
    roles = scope.roles
    items: list[tuple[Any, str]] = []
    if scope.household_ids:
        items += [
            (_("My household"), reverse("community:portal-home")),
            (_("My points"), reverse("credit:points-home")),
            (_("Credit supermarket"), reverse("credit:shop-catalogue")),
        ]
    office = bool(roles & _STAFF) or user.is_superuser
    if scope.household_ids or "grid_worker" in roles or office:
        items += [
            (_("Report a problem"), reverse("grievances:file")),
            (_("My reports"), reverse("grievances:mine")),
        ]
    if scope.household_ids:
        items.append((_("Suggestion box"), reverse("grievances:suggest")))
    if "grid_worker" in roles:
        items.append((_("My grid"), reverse("community:worker-home")))
    if roles & {"property_staff", "partner_staff"}:
        items.append((_("My work orders"), reverse("grievances:queue")))
    if office or "street_supervisor" in roles:
        items += [
            (_("Dispatch board"), reverse("grievances:board")),
            (_("Grievance statistics"), reverse("grievances:kpis")),
        ]
    if scope.household_ids or office or (not roles and _serves_in_a_team(user)):
        items.append((_("Volunteering"), reverse("volunteers:home")))
    if office:
        items.append((_("Volunteering office"), reverse("volunteers:office")))
    # Property management (物业): bills and ratings for households, fee pages for the office
    # and the property company, the self-managed fund for its committee.
    if scope.household_ids:
        items += [
            (_("My bills"), reverse("property:fees-my-bills")),
            (_("Rate your property company"), reverse("property:survey-portal")),
        ]
    if "grid_worker" in roles:
        items.append((_("Survey for a household"), reverse("property:survey-grid")))
    if office or "property_staff" in roles:
        items.append((_("Property fees"), reverse("property:fees-index")))
    if "property_staff" in roles:
        items.append((_("Our black-list entries"), reverse("property:blacklist-company")))
    if office:
        items += [
            (_("Satisfaction surveys"), reverse("property:survey-office")),
            (_("Scorecards"), reverse("property:scorecard-office")),
            (_("Black list"), reverse("property:blacklist-office")),
            (_("Self-managed funds"), reverse("property:fund-office")),
        ]
    elif scope.household_ids or "committee_member" in roles:
        items.append((_("Self-managed fund"), reverse("property:fund-index")))
    if scope.household_ids:
        items.append((_("Property black list"), reverse("property:blacklist-board")))
    if "supermarket_clerk" in roles:
        items.append((_("Pickup desk"), reverse("credit:clerk-desk")))
    if office:
        items += [
            (_("Back office"), reverse("admin:index")),
            (_("Points workbench"), reverse("credit:points-staff")),
        ]
    if roles & (_STAFF | {"supermarket_clerk"}) or user.is_superuser:
        items.append((_("Weighing point"), reverse("credit:garbage")))
    if scope.household_ids or roles & _STAFF or user.is_superuser:
        items.append((_("Red and grey list"), reverse("credit:boards")))
    if items:  # someone of a community (an outsider has no standard to read)
        items.append((_("Scoring standard"), reverse("credit:standard")))
    # The longest matching address is the current place (/points/shop/ is not /points/).
    matching = [url for _label, url in items if request.path.startswith(url)]
    current = max(matching, key=len, default=None)
    return {
        "linli_nav": [
            {"label": label, "url": url, "active": url == current} for label, url in items
        ],
        # The unread badge of the top bar: counted once, and only when a template shows it.
        "linli_inbox_unread": SimpleLazyObject(lambda: inbox_unread_count(user=user)),
    }
