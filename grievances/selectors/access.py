"""Who may see, and who may act on, which grievance (DESIGN §3, issue 4).

Seeing (`grievances_visible`):

- superusers everything; a street supervisor the communities of their street; community
  staff and admins their communities (the office);
- a grid worker the grievances at buildings of their grids, and those they filed;
- property and partner-unit staff what was ever dispatched to their organization (live
  or past), and anyone what was ever dispatched to them by name. Not every grievance at
  the estates a property company serves: a complaint may be about the company itself,
  and the office decides what it passes on;
- a resident what they or a member of their household reported, or what was filed
  for their household.

Anonymous suggestions (意见箱) are the office's (and their receiver's, once dispatched):
no resident, and no grid worker by area, sees them. Anything else is simply not in the
queryset, so a detail page answers 404.

Internal notes (`can_see_internal`) are for everyone above except residents: a resident
who is also a grid worker sees the internal notes of their grids, not of their own
household's grievance in another grid.

Acting: the office (community staff or admins of the grievance's community, superusers)
accepts, dispatches, rejects, merges and decides extensions; the receiver of a dispatch
(its assignee, or staff of its organization) accepts, declines or transfers it, then
handles the grievance. Street supervisors read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet

from community.models import Membership, Resident
from community.scoping import is_community_office, scope_for
from grievances.models import Dispatch, Grievance

Role = Membership.Role
RECEIVER_ROLES = frozenset({Role.PROPERTY_STAFF, Role.PARTNER_STAFF})


@dataclass(frozen=True)
class GrievanceScope:
    """What a user's roles reach in the grievances app; `everything` for superusers."""

    user_id: int | None = None
    everything: bool = False
    street_ids: frozenset[int] = field(default_factory=frozenset)
    community_ids: frozenset[int] = field(default_factory=frozenset)
    grid_ids: frozenset[int] = field(default_factory=frozenset)
    household_ids: frozenset[int] = field(default_factory=frozenset)
    # Property or partner-unit staff: they receive what is dispatched to their organization.
    is_org_receiver: bool = False
    is_grid_worker: bool = False


def grievance_scope(user: Any) -> GrievanceScope:
    """The user's grievance scope, computed once per user object (i.e. per request)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return GrievanceScope()
    cached = getattr(user, "_linli_grievance_scope", None)
    if cached is not None:
        return cached
    base = scope_for(user)
    if base.everything:
        scope = GrievanceScope(user_id=user.pk, everything=True)
    else:
        scope = GrievanceScope(
            user_id=user.pk,
            street_ids=base.street_ids,
            # scope_for fills these from community staff and admin roles only.
            community_ids=base.community_ids,
            grid_ids=base.grid_ids,
            household_ids=base.household_ids,
            is_org_receiver=bool(base.roles & RECEIVER_ROLES),
            is_grid_worker=Role.GRID_WORKER in base.roles,
        )
    user._linli_grievance_scope = scope
    return scope


def receiver_orgs(user_id: int) -> QuerySet[Membership, Any]:
    """The organizations whose dispatches the user receives (a subquery, not a round trip)."""
    return Membership.objects.filter(
        user_id=user_id, is_active=True, role__in=RECEIVER_ROLES
    ).values("organization_id")


def dispatch_receiver_q(scope: GrievanceScope) -> Q:
    """Dispatches addressed to the user by name or to one of their organizations."""
    assert scope.user_id is not None
    receiver = Q(assignee_id=scope.user_id)
    if scope.is_org_receiver:
        receiver |= Q(organization_id__in=receiver_orgs(scope.user_id))
    return receiver


def _dispatched_q(scope: GrievanceScope) -> Q:
    """Grievances ever dispatched to the user or to one of their organizations."""
    return Q(id__in=Dispatch.objects.filter(dispatch_receiver_q(scope)).values("grievance_id"))


def work_q(scope: GrievanceScope) -> Q:
    """Grievances the user sees through their work (internal notes included)."""
    q = _dispatched_q(scope)
    if scope.street_ids:
        q |= Q(community__street_id__in=sorted(scope.street_ids))
    if scope.community_ids:
        q |= Q(community_id__in=sorted(scope.community_ids))
    if scope.grid_ids:
        q |= Q(building__grid_id__in=sorted(scope.grid_ids), is_anonymous=False)
    if scope.is_grid_worker:
        q |= Q(submitted_by_id=scope.user_id)
    return q


def party_q(scope: GrievanceScope) -> Q:
    """Grievances the user is party to as a resident: reported, filed, or their household's."""
    assert scope.user_id is not None
    mine = Q(reporter_id__in=Resident.objects.filter(user_id=scope.user_id).values("id")) | Q(
        submitted_by_id=scope.user_id
    )
    if scope.household_ids:
        households = sorted(scope.household_ids)
        # Filed at their home, or reported by someone of their household (a lamp outside).
        mine |= Q(household_id__in=households) | Q(
            reporter_id__in=Resident.objects.filter(household_id__in=households).values("id")
        )
    return mine & Q(is_anonymous=False)


def grievances_visible(*, user: Any) -> QuerySet[Grievance]:
    """Every grievance the user may see (unordered, no joins): the base of every read."""
    scope = grievance_scope(user)
    if scope.everything:
        return Grievance.objects.all()
    if scope.user_id is None:
        return Grievance.objects.none()
    return Grievance.objects.filter(work_q(scope) | party_q(scope))


def is_office(user: Any, community_id: int) -> bool:
    """Whether the user works in the office of that community (or is a superuser)."""
    return is_community_office(user, community_id)


def is_receiver(user: Any, dispatch: Dispatch) -> bool:
    """Whether the user is the receiver of the dispatch: its assignee or staff of its org."""
    scope = grievance_scope(user)
    if scope.user_id is None:
        return False
    if dispatch.assignee_id is not None and dispatch.assignee_id == scope.user_id:
        return True
    if dispatch.organization_id is None or not scope.is_org_receiver:
        return False
    return Membership.objects.filter(
        user_id=scope.user_id,
        is_active=True,
        role__in=RECEIVER_ROLES,
        organization_id=dispatch.organization_id,
    ).exists()


def can_see_internal(user: Any, grievance: Grievance) -> bool:
    """Whether the user reads internal notes of this grievance (never a mere resident)."""
    scope = grievance_scope(user)
    if scope.everything or grievance.community_id in scope.community_ids:
        return True
    if scope.user_id is None:
        return False
    return Grievance.objects.filter(work_q(scope), pk=grievance.pk).exists()
