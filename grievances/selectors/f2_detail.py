"""Reads of the grievance page and the receivers' queue: what is shown, and which actions
the acting user may take now.

The services decide in the end (they check the actor and the status map again, under a
row lock); these reads only decide which forms to draw, from the same rules: the office
(selectors.access.is_office), the receiver of the live dispatch (access.is_receiver),
the handler, the reporter's household, and workflow.allowed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Prefetch, Q, QuerySet

from accounts.models import User
from community.models import Household, Membership, Organization, Resident
from grievances import workflow
from grievances.models import (
    CostShare,
    CostShareLine,
    DeadlineExtension,
    Dispatch,
    Grievance,
    SlaClock,
    Tier,
)
from grievances.selectors.access import grievance_scope, is_office, is_receiver

Status = Grievance.Status
DStatus = Dispatch.Status
Role = Membership.Role
#: Who may receive a work order (services.dispatch.RECEIVER_KINDS): not a merchant.
RECEIVER_KINDS = (
    Organization.Kind.PROPERTY_COMPANY,
    Organization.Kind.PARTNER_UNIT,
    Organization.Kind.COMMUNITY_OFFICE,
    Organization.Kind.SOCIAL_ORGANIZATION,
    Organization.Kind.STREET_OFFICE,
)
#: People a work order may name: those who work in the community or for its receivers.
PERSON_ROLES = (
    Role.COMMUNITY_ADMIN,
    Role.COMMUNITY_STAFF,
    Role.GRID_WORKER,
    Role.PROPERTY_STAFF,
    Role.PARTNER_STAFF,
)
#: How many households a cost share form lists (one building, or one estate's worth).
MAX_SHARE_HOUSEHOLDS = 200
#: Statuses from which the office may dispatch (a submitted one is accepted on the way).
DISPATCHABLE = frozenset({Status.SUBMITTED, Status.ACCEPTED, Status.REOPENED})
#: Tiers whose grievances need a plan with a date (处置方案).
PLAN_TIERS = frozenset({Tier.COMPLEX, Tier.REPAIR_MEDIUM, Tier.REPAIR_MAJOR})

# Action names: the last part of /grievances/<pk>/<action>/.
OFFICE_ACTIONS = (
    "accept",
    "reject",
    "dispatch",
    "dispatch-withdraw",
    "merge",
    "extension-decide",
    "steward",
    "cost-share",
    "cost-share-pay",
)
RECEIVER_ACTIONS = ("dispatch-accept", "dispatch-decline", "dispatch-transfer")
HANDLER_ACTIONS = (
    "check-in",
    "progress",
    "plan",
    "wait",
    "resume",
    "resolve",
    "extension-request",
)
REPORTER_ACTIONS = ("rate",)
ALL_ACTIONS = frozenset(OFFICE_ACTIONS + RECEIVER_ACTIONS + HANDLER_ACTIONS + REPORTER_ACTIONS)


@dataclass(frozen=True)
class Roles:
    """How the acting user stands to one grievance."""

    office: bool = False
    receiver: bool = False  # of the live (pending or accepted) dispatch
    handler: bool = False  # the grievance is in their hands (dispatch accepted)
    rater: bool = False  # the reporter or their household: confirms and rates
    staff_view: bool = False  # sees the reporter unmasked (the office, street supervisors)


@dataclass
class PageState:
    """Everything the grievance page draws besides the grievance itself."""

    roles: Roles
    actions: frozenset[str]
    dispatch: Dispatch | None
    clocks: list[SlaClock]
    extensions: list[DeadlineExtension] = field(default_factory=list)
    cost_share: CostShare | None = None


def grievance_live_dispatch(*, grievance: Grievance) -> Dispatch | None:
    """The grievance's pending or accepted dispatch, with its receiver (at most one)."""
    return (
        Dispatch.objects.filter(grievance=grievance, status__in=[DStatus.PENDING, DStatus.ACCEPTED])
        .select_related("organization", "assignee")
        .first()
    )


def grievance_clocks(*, grievance: Grievance) -> list[SlaClock]:
    """Every clock of the grievance, in the order they started (reopened ones again)."""
    return list(SlaClock.objects.filter(grievance=grievance).order_by("started_at", "id"))


def grievance_pending_extensions(*, grievance: Grievance) -> list[DeadlineExtension]:
    """Requests for more time waiting for the office's decision."""
    return list(
        DeadlineExtension.objects.filter(
            clock__grievance=grievance, status=DeadlineExtension.Status.PENDING
        )
        .select_related("clock", "requested_by")
        .order_by("created_at", "id")
    )


def grievance_cost_share(*, grievance: Grievance) -> CostShare | None:
    """The grievance's cost share (费用均摊) with its lines per household, if any."""
    lines = CostShareLine.objects.select_related("household__unit__building__estate").order_by(
        "household_id"
    )
    return (
        CostShare.objects.filter(grievance=grievance)
        .prefetch_related(Prefetch("lines", queryset=lines))
        .first()
    )


def _may_rate(user: Any, grievance: Grievance) -> bool:
    """The reporter, or a resident of the reporter's household or of the household it was
    filed for (services.closing checks the same under the lock)."""
    if grievance.is_anonymous or user is None or not user.is_authenticated:
        return False
    if grievance.reporter_id is None and grievance.household_id is None:
        return False
    own = Resident.objects.filter(user_id=user.pk).only("id", "household_id").first()
    if own is None:
        return False
    if grievance.reporter_id is not None and own.pk == grievance.reporter_id:
        return True
    households = {grievance.household_id}
    if grievance.reporter is not None:
        households.add(grievance.reporter.household_id)
    return (
        own.household_id in households and own.household_id in grievance_scope(user).household_ids
    )


def grievance_roles(*, user: Any, grievance: Grievance, dispatch: Dispatch | None) -> Roles:
    """How the user stands to the grievance (the grievance is already known to be in scope)."""
    scope = grievance_scope(user)
    office = is_office(user, grievance.community_id)
    receiver = dispatch is not None and is_receiver(user, dispatch)
    handler = (
        dispatch is not None
        and dispatch.status == DStatus.ACCEPTED
        and (
            receiver
            or (grievance.handler_user_id is not None and grievance.handler_user_id == user.pk)
        )
    )
    street_id = grievance.community.street_id
    staff_view = office or scope.everything or street_id in scope.street_ids
    return Roles(
        office=office,
        receiver=receiver,
        handler=handler,
        rater=grievance.status == Status.RESOLVED and _may_rate(user, grievance),
        staff_view=staff_view,
    )


def _actions(
    roles: Roles,
    grievance: Grievance,
    dispatch: Dispatch | None,
    clocks: list[SlaClock],
    extensions: list[DeadlineExtension],
    cost_share: CostShare | None,
    user_id: int,
) -> set[str]:
    status = grievance.status
    allowed = workflow.allowed
    actions: set[str] = set()
    pending = dispatch is not None and dispatch.status == DStatus.PENDING
    accepted = dispatch is not None and dispatch.status == DStatus.ACCEPTED
    live_clocks = [c for c in clocks if c.state in (SlaClock.State.RUNNING, SlaClock.State.PAUSED)]
    if roles.office:
        if allowed(grievance, Status.ACCEPTED) and status == Status.SUBMITTED:
            actions.add("accept")
        if allowed(grievance, Status.REJECTED):
            actions.add("reject")
        if status in DISPATCHABLE and dispatch is None:
            actions.add("dispatch")
        if dispatch is not None and allowed(grievance, Status.ACCEPTED):
            actions.add("dispatch-withdraw")
        if allowed(grievance, Status.MERGED):
            actions.add("merge")
        if any(e.requested_by_id != user_id for e in extensions):
            actions.add("extension-decide")
        if status not in workflow.FINAL_STATUSES:
            actions.add("steward")
            # The office writes internal notes (and public answers) at any open stage.
            actions.add("progress")
        if cost_share is None and status not in (Status.REJECTED, Status.MERGED):
            actions.add("cost-share")
        if cost_share is not None and any(line.paid_at is None for line in cost_share.lines.all()):
            actions.add("cost-share-pay")
        if status == Status.ACCEPTED:
            actions.add("resolve")  # a matter the office answers itself, no photo needed
    if roles.receiver and pending and status == Status.DISPATCHED:
        actions.update(("dispatch-accept", "dispatch-decline", "dispatch-transfer"))
    # The handler's work; the office may do it for them (a phone call from the site).
    if (roles.handler or roles.office) and accepted:
        if status == Status.DISPATCHED:
            actions.add("check-in")
        if status in workflow.IN_HANDS_STATUSES:
            actions.add("progress")
            if grievance.tier in PLAN_TIERS or any(c.kind == "plan" for c in live_clocks):
                actions.add("plan")
        if allowed(grievance, Status.WAITING):
            actions.add("wait")
        if status == Status.WAITING:
            actions.add("resume")
        if status in (Status.DISPATCHED, Status.ON_SITE):
            actions.add("resolve")
        if live_clocks and not any(e.requested_by_id == user_id for e in extensions):
            actions.add("extension-request")
    if roles.rater:
        actions.add("rate")
    return actions


def grievance_page_state(*, user: Any, grievance: Grievance) -> PageState:
    """What the grievance page shows this user besides the grievance: clocks, the live
    dispatch, pending extensions, the cost share, and the actions open to them now."""
    dispatch = grievance_live_dispatch(grievance=grievance)
    roles = grievance_roles(user=user, grievance=grievance, dispatch=dispatch)
    clocks = grievance_clocks(grievance=grievance)
    works_on = roles.office or roles.handler or roles.receiver
    extensions = grievance_pending_extensions(grievance=grievance) if works_on else []
    cost_share = grievance_cost_share(grievance=grievance)
    actions = _actions(roles, grievance, dispatch, clocks, extensions, cost_share, user.pk)
    return PageState(
        roles=roles,
        actions=frozenset(actions),
        dispatch=dispatch,
        clocks=clocks,
        extensions=extensions,
        cost_share=cost_share,
    )


# --- choices of the forms -------------------------------------------------------------------


def dispatch_organizations(*, grievance: Grievance) -> list[Organization]:
    """Organizations a work order of this grievance may go to: the community's own, the
    property companies of its estates, and the street's units."""
    community = grievance.community
    near = (
        Q(community_id=community.pk)
        | Q(estates_served__community_id=community.pk)
        | Q(street_id=community.street_id, community__isnull=True)
    )
    return list(
        Organization.objects.filter(near, kind__in=RECEIVER_KINDS)
        .distinct()
        .order_by("kind", "name", "pk")
    )


def dispatch_people(*, grievance: Grievance, organizations: list[Organization]) -> list[User]:
    """People a work order may name: staff and grid workers of the community, and staff
    of the organizations it may go to (a party member's own account, once registered)."""
    community_id = grievance.community_id
    org_ids = [org.pk for org in organizations]
    works_here = Q(
        memberships__role__in=[Role.COMMUNITY_ADMIN, Role.COMMUNITY_STAFF],
        memberships__community_id=community_id,
    ) | Q(memberships__role=Role.GRID_WORKER, memberships__grid__community_id=community_id)
    if org_ids:
        works_here |= Q(
            memberships__role__in=[Role.PROPERTY_STAFF, Role.PARTNER_STAFF],
            memberships__organization_id__in=org_ids,
        )
    return list(
        User.objects.filter(works_here, is_active=True, memberships__is_active=True)
        .distinct()
        .order_by("name", "pk")[:300]
    )


def cost_share_households(*, grievance: Grievance) -> QuerySet[Household]:
    """Households a cost share may name: those of the grievance's building (or estate)."""
    qs = Household.objects.select_related("unit__building__estate")
    if grievance.building_id is not None:
        qs = qs.filter(unit__building_id=grievance.building_id)
    elif grievance.estate_id is not None:
        qs = qs.filter(unit__building__estate_id=grievance.estate_id)
    else:
        return Household.objects.none()
    return qs.order_by("unit__building__number", "unit__number", "room", "pk")[
        :MAX_SHARE_HOUSEHOLDS
    ]


def steward_find(*, grievance: Grievance, text: str) -> list[Resident]:
    """Residents of the grievance's community living here, by exact phone or name (at
    most a few: the caller refuses an ambiguous name)."""
    text = " ".join((text or "").split())
    if not text:
        return []
    digits = "".join(ch for ch in text if ch.isdigit())
    who = (
        Q(phone=digits)
        if len(digits) >= 7 and len(digits) == len(text.replace(" ", ""))
        else Q(name=text)
    )
    return list(
        Resident.objects.filter(
            who,
            status=Resident.Status.ACTIVE,
            household__unit__building__estate__community_id=grievance.community_id,
        )
        .select_related("household__unit__building__estate")
        .order_by("pk")[:5]
    )


def queue_allowed(*, user: Any) -> bool:
    """Whether the user has a receivers' queue: staff of a property company or partner
    unit, or someone work orders were ever addressed to by name."""
    scope = grievance_scope(user)
    if scope.user_id is None:
        return False
    if scope.is_org_receiver or scope.everything:
        return True
    return Dispatch.objects.filter(assignee_id=scope.user_id).exists()
