"""Reads of manual requests, deductions and appeals, and the points per resident (台账).

The office side (workbench, decisions, export) is for community staff and admins of
their communities and street supervisors of their street; the resident side reads only
the resident's own deductions. Everything else is simply not in the queryset (404).
"""

from __future__ import annotations

from typing import Any

from django.db.models import (
    BooleanField,
    Case,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from community.models import Community, Membership, Resident
from community.scoping import scope_filter, scope_for
from community.selectors import resident_search_q
from credit.models import Appeal, PointsEntry, PointsRequest, ScoringRule

Role = Membership.Role
Status = PointsRequest.Status

#: Roles that see the points office of an area (staff and admins act, supervisors read).
OFFICE_ROLES = frozenset({Role.COMMUNITY_ADMIN, Role.COMMUNITY_STAFF, Role.STREET_SUPERVISOR})


def can_view_points_office(user: Any) -> bool:
    """Whether the user sees the points workbench of some community."""
    scope = scope_for(user)
    return scope.everything or bool(scope.roles & OFFICE_ROLES)


def office_communities(*, user: Any) -> QuerySet[Community]:
    """The communities whose points office the user sees (none for residents and others)."""
    scope = scope_for(user)
    if scope.everything:
        return Community.objects.all()
    if not scope.roles & OFFICE_ROLES:
        return Community.objects.none()
    # scope_for fills community_ids from staff/admin roles and street_ids from supervisors
    # only; a resident's household never widens this.
    return Community.objects.filter(
        Q(id__in=sorted(scope.community_ids)) | Q(street_id__in=sorted(scope.street_ids))
    )


def _mine(user: Any) -> Case:
    return Case(
        When(requested_by_id=user.pk, then=Value(True)),
        default=Value(False),
        output_field=BooleanField(),
    )


# --- the resident's side ----------------------------------------------------------------


def my_deductions(*, user: Any) -> QuerySet[PointsRequest]:
    """Deductions notified to the user (any outcome), newest first, with their appeal."""
    if user is None or not user.is_authenticated:
        return PointsRequest.objects.none()
    return (
        PointsRequest.objects.filter(
            resident__user=user,
            kind=PointsRequest.Kind.DEDUCTION,
            status__in=[Status.NOTIFIED, Status.APPEALED, Status.APPLIED, Status.CANCELLED],
        )
        .select_related("rule", "appeal", "entry")
        .order_by("-id")
    )


def my_deduction_get(*, user: Any, pk: int) -> PointsRequest:
    """One of the user's own notified deductions; DoesNotExist otherwise."""
    return my_deductions(user=user).get(pk=pk)


def my_awards(*, user: Any) -> QuerySet[PointsRequest]:
    """Manual awards and deductions asked for the user, decided or not, newest first."""
    if user is None or not user.is_authenticated:
        return PointsRequest.objects.none()
    return (
        PointsRequest.objects.filter(resident__user=user, kind=PointsRequest.Kind.AWARD)
        .exclude(status=Status.PENDING)
        .select_related("rule")
        .order_by("-id")
    )


# --- the office side --------------------------------------------------------------------


def request_list(*, user: Any) -> QuerySet[PointsRequest]:
    """Requests of the user's office communities, flagged `mine` when the user made them."""
    if not can_view_points_office(user):
        return PointsRequest.objects.none()
    return (
        PointsRequest.objects.filter(community__in=office_communities(user=user))
        .select_related("resident", "rule", "requested_by", "decided_by", "community")
        .annotate(mine=_mine(user))
    )


def request_get(*, user: Any, pk: int) -> PointsRequest:
    """A request the user may see (as office); DoesNotExist otherwise (answer 404)."""
    return request_list(user=user).get(pk=pk)


def workbench_pending_requests(*, user: Any) -> QuerySet[PointsRequest]:
    """Requests waiting for a decision, oldest first; `mine` ones need another person."""
    return request_list(user=user).filter(status=Status.PENDING).order_by("pk")


def workbench_notified_deductions(*, user: Any) -> QuerySet[PointsRequest]:
    """Deductions in their appeal window, the soonest deadline first."""
    return request_list(user=user).filter(status=Status.NOTIFIED).order_by("appeal_deadline", "pk")


def workbench_recent_decisions(*, user: Any) -> QuerySet[PointsRequest]:
    """Requests decided lately (applied, rejected, cancelled), newest first."""
    return (
        request_list(user=user)
        .filter(status__in=[Status.APPLIED, Status.REJECTED, Status.CANCELLED])
        .order_by("-decided_at", "-pk")
    )


def appeal_list(*, user: Any) -> QuerySet[Appeal]:
    """Appeals of the user's office communities; `mine` when the user made the deduction."""
    if not can_view_points_office(user):
        return Appeal.objects.none()
    return (
        Appeal.objects.filter(request__community__in=office_communities(user=user))
        .select_related(
            "request__resident", "request__rule", "request__requested_by", "submitted_by"
        )
        .annotate(
            mine=Case(
                When(request__requested_by_id=user.pk, then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            )
        )
    )


def appeal_get(*, user: Any, pk: int) -> Appeal:
    """An appeal the user may see (as office); DoesNotExist otherwise (answer 404)."""
    return appeal_list(user=user).get(pk=pk)


def workbench_open_appeals(*, user: Any) -> QuerySet[Appeal]:
    """Appeals waiting for a decision, oldest first."""
    return appeal_list(user=user).filter(status=Appeal.Status.OPEN).order_by("pk")


def request_residents(*, user: Any, search: str, limit: int = 20) -> list[Resident]:
    """Residents of the user's office communities matching a name or phone, for a request."""
    search = (search or "").strip()
    if not search or not can_view_points_office(user):
        return []
    qs = (
        scope_filter(Resident.objects.all(), user)
        .filter(
            resident_search_q(search),
            status=Resident.Status.ACTIVE,
            household__unit__building__estate__community__in=office_communities(user=user),
        )
        .select_related("household__unit__building__estate")
        .defer("id_number_ciphertext")
        .order_by("name", "id")
    )
    return list(qs[:limit])


def request_resident_get(*, user: Any, pk: int) -> Resident:
    """A resident the user may ask points for (office scope); DoesNotExist otherwise."""
    if not can_view_points_office(user):
        raise Resident.DoesNotExist
    return (
        scope_filter(Resident.objects.all(), user)
        .filter(household__unit__building__estate__community__in=office_communities(user=user))
        .get(pk=pk)
    )


def request_rules(*, user: Any) -> list[ScoringRule]:
    """Current rules in force in the user's office communities (own rules override)."""
    communities = list(office_communities(user=user).values_list("id", "street_id"))
    if not communities:
        return []
    community_ids = [c for c, _s in communities]
    street_ids = {s for _c, s in communities}
    rules = list(
        ScoringRule.objects.filter(is_current=True)
        .filter(
            Q(community_id__in=community_ids) | Q(community__isnull=True, street_id__in=street_ids)
        )
        .order_by("category", "points", "code", "id")
    )
    # With one community (the usual office), its own version replaces the street's.
    if len(community_ids) == 1:
        own = {r.code for r in rules if r.community_id is not None}
        rules = [r for r in rules if r.community_id is not None or r.code not in own]
    return rules


def request_rule_get(*, user: Any, pk: int) -> ScoringRule:
    """A current rule the user may ask for; DoesNotExist otherwise."""
    for rule in request_rules(user=user):
        if rule.pk == pk:
            return rule
    raise ScoringRule.DoesNotExist


def _entry_sum(side: str, kind: str) -> Coalesce:
    """Points of `kind` on one side of the resident's account (0 when none)."""
    entries = (
        PointsEntry.objects.filter(**{side: OuterRef("points_account"), "kind": kind})
        .order_by()
        .values(side)
        .annotate(total=Sum("amount"))
        .values("total")
    )
    return Coalesce(Subquery(entries, output_field=IntegerField()), Value(0))


def points_per_resident(*, user: Any, community_id: int | None = None) -> QuerySet[Resident]:
    """Residents of the user's office communities with their points (台账), by address.

    `balance` is the cached balance; `earned`, `deducted` and `spent` are gross sums of
    award, deduction and redemption entries (reversals are not netted out).
    """
    communities = office_communities(user=user)
    if community_id is not None:
        communities = communities.filter(pk=community_id)
    return (
        Resident.objects.filter(household__unit__building__estate__community__in=communities)
        .select_related("household__unit__building__estate__community")
        .defer("id_number_ciphertext")
        .annotate(
            balance=Coalesce("points_account__balance", Value(0)),
            earned=_entry_sum("credit_account", PointsEntry.Kind.AWARD),
            deducted=_entry_sum("debit_account", PointsEntry.Kind.DEDUCTION),
            spent=_entry_sum("debit_account", PointsEntry.Kind.REDEMPTION),
        )
        .order_by(
            "household__unit__building__estate__community_id",
            "household__unit__building__estate__name",
            "household__unit__building__number",
            "household__unit__number",
            "household__room",
            "id",
        )
    )
