"""Service records (what a service day did and for whom) and patrol logs, whose findings
turn into grievances in one step through the grievances app's own intake service."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from grievances.models import Category, Grievance
from grievances.services import grievance_file
from volunteers.models import Activity, PatrolFinding, PatrolLog, ServiceRecord, Team, TeamMember
from volunteers.services.common import is_community_staff, may_manage_activity


def service_record_add(
    *,
    activity: Activity,
    entries: Iterable[Mapping[str, Any]],
    actor: Any,
    now: dt.datetime,
) -> list[ServiceRecord]:
    """The leader or staff record what was done: entries of item, count and for whom."""
    if not may_manage_activity(actor, activity):
        raise PermissionDenied(_("Only the team leader or staff may record services."))
    records = []
    for entry in entries:
        item = " ".join(str(entry.get("item") or "").split())[:100]
        if not item:
            raise ValidationError(_("Name the service."), code="item")
        try:
            count = int(entry.get("count") or 0)
        except (TypeError, ValueError):
            count = 0
        if count < 1:
            raise ValidationError(_("The count must be at least 1."), code="count")
        record = ServiceRecord(
            activity=activity,
            item=item,
            count=count,
            beneficiaries=str(entry.get("beneficiaries") or "").strip(),
            recorded_by=actor,
            recorded_at=now,
        )
        record._history_user = actor  # type: ignore[attr-defined]
        records.append(record)
    if not records:
        raise ValidationError(_("Record at least one service."), code="empty")
    with transaction.atomic(durable=True):
        for record in records:
            record.save()  # one by one: bulk_create would skip the history rows
    return records


def _may_log_patrol(actor: Any, team: Team) -> bool:
    if actor is None or not actor.is_authenticated:
        return False
    if team.leader_id is not None and team.leader_id == actor.pk:
        return True
    on_team = TeamMember.objects.filter(team=team, user=actor, left_at__isnull=True).exists()
    return on_team or is_community_staff(actor, team.community_id)


def patrol_log_add(
    *,
    team: Team,
    actor: Any,
    route: str,
    started_at: dt.datetime,
    ended_at: dt.datetime,
    findings: str = "",
    items: Iterable[Mapping[str, Any]] = (),
    activity: Activity | None = None,
) -> PatrolLog:
    """A team member, its leader or staff log a patrol with its findings, one by one."""
    if not _may_log_patrol(actor, team):
        raise PermissionDenied(_("Only members of the team or staff may log its patrols."))
    route = " ".join((route or "").split())[:200]
    if not route:
        raise ValidationError(_("Describe the route."), code="route")
    if ended_at < started_at:
        raise ValidationError(_("The patrol cannot end before it starts."), code="window")
    if activity is not None and activity.community_id != team.community_id:
        raise ValidationError(_("The activity is of another community."), code="community")
    log = PatrolLog(
        team=team,
        activity=activity,
        route=route,
        started_at=started_at,
        ended_at=ended_at,
        findings=(findings or "").strip(),
        logged_by=actor,
    )
    log._history_user = actor  # type: ignore[attr-defined]
    found = []
    for item in items:
        description = str(item.get("description") or "").strip()
        if not description:
            raise ValidationError(_("Describe what was found."), code="description")
        building = item.get("building")
        if building is not None and building.estate.community_id != team.community_id:
            raise ValidationError(_("The building is of another community."), code="community")
        finding = PatrolFinding(
            description=description, building=building, category=item.get("category")
        )
        finding._history_user = actor  # type: ignore[attr-defined]
        found.append(finding)
    with transaction.atomic(durable=True):
        log.save()
        for finding in found:
            finding.log = log
            finding.save()
    return log


def patrol_finding_to_grievance(
    *,
    finding: PatrolFinding,
    actor: Any,
    now: dt.datetime,
    category: Category | None = None,
    title: str | None = None,
) -> Grievance:
    """File a finding as a grievance (channel patrol); a finding is filed once.

    Who may file is the grievances app's rule for the patrol channel (grid workers, the
    office, property staff): its intake service decides, not this one.
    """
    finding = PatrolFinding.objects.select_related("log__team__community", "grievance").get(
        pk=finding.pk
    )
    if finding.grievance is not None:
        return finding.grievance
    source_ref = f"patrol-finding:{finding.pk}"
    community = finding.log.team.community
    # A grievance filed but not linked (a crash between the two steps) is found again.
    grievance = Grievance.objects.filter(community=community, source_ref=source_ref).first()
    if grievance is None:
        category = category or finding.category
        if category is None:
            raise ValidationError(_("Choose a category."), code="category")
        log = finding.log
        building = finding.building
        grievance = grievance_file(
            community=community,
            category=category,
            title=(title or finding.description.splitlines()[0])[:120],
            description=_("%(description)s\n\nFound on patrol (%(route)s, %(when)s).")
            % {
                "description": finding.description,
                "route": log.route,
                "when": f"{log.started_at:%Y-%m-%d %H:%M}",
            },
            channel=Grievance.Channel.PATROL,
            submitted_by=actor,
            now=now,
            building=building,
            estate=building.estate if building is not None else None,
            source_ref=source_ref,
            # The same actor filing twice (a double click) gets the first grievance back.
            idempotency_key=source_ref,
        )
    with transaction.atomic(durable=True):
        linked = PatrolFinding.objects.filter(pk=finding.pk, grievance__isnull=True).update(
            grievance=grievance
        )
        finding.refresh_from_db()
        if linked:
            finding._history_user = actor  # type: ignore[attr-defined]
            finding.save(update_fields=["grievance"])  # a history row saying who filed it
    assert finding.grievance is not None
    return finding.grievance
