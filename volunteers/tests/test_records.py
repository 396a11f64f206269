from __future__ import annotations

import threading
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from grievances.models import Category, Grievance
from grievances.tests.factories import CategoryFactory
from volunteers import services
from volunteers.models import PatrolFinding, PatrolLog, ServiceRecord, Team
from volunteers.selectors.records import (
    activity_service_records,
    open_patrol_findings,
    service_totals,
    team_patrol_logs,
)
from volunteers.tests.factories import HOUR, NOW, ActivityFactory, TeamFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _private_storage(tmp_path: Any, settings: Any) -> None:
    settings.PRIVATE_STORAGE_ROOT = tmp_path / "private"


@pytest.fixture
def lamp() -> Any:
    return CategoryFactory(
        code="v-lamp",
        name="楼道照明",
        sla_policy=None,
        default_handler=Category.Handler.COMMUNITY_OFFICE,
    )


def _patrol(world: Any, logger: Any, **item: Any) -> PatrolFinding:
    team = TeamFactory(community=world.home, kind=Team.Kind.WOMENS_PATROL, leader=logger)
    log = services.patrol_log_add(
        team=team,
        actor=logger,
        route="青松路—3号楼—南门",
        started_at=NOW,
        ended_at=NOW + HOUR,
        items=[{"description": "3号楼楼道灯不亮", "building": world.building_a, **item}],
    )
    return log.finding_items.get()


# --- service records ---------------------------------------------------------------------


def test_the_leader_records_what_a_service_day_did(world: Any, resident: Any, staff: Any) -> None:
    team = TeamFactory(community=world.home, leader=resident)
    day = ActivityFactory(community=world.home, team=team)
    services.service_record_add(
        activity=day,
        entries=[
            {"item": "理发", "count": 23, "beneficiaries": "高龄老人"},
            {"item": "磨刀", "count": 40},
        ],
        actor=resident,
        now=NOW + 5 * HOUR,
    )
    services.service_record_add(
        activity=ActivityFactory(community=world.home),
        entries=[{"item": "理发", "count": 7}],
        actor=staff,
        now=NOW + 5 * HOUR,
    )
    shown = activity_service_records(user=resident, activity=day)
    assert [(r.item, r.count) for r in shown] == [("理发", 23), ("磨刀", 40)]
    totals = service_totals(user=staff, community=world.home, since=NOW, until=NOW + 24 * HOUR)
    assert totals == [("磨刀", 40), ("理发", 30)]
    assert service_totals(user=resident, community=world.home, since=NOW, until=NOW + HOUR) == []


def test_only_the_leader_or_staff_record_services(world: Any, outsider: Any) -> None:
    day = ActivityFactory(community=world.home)
    with pytest.raises(PermissionDenied):
        services.service_record_add(
            activity=day, entries=[{"item": "理发", "count": 1}], actor=outsider, now=NOW
        )
    assert not ServiceRecord.objects.exists()


def test_a_record_needs_a_service_and_a_positive_count(world: Any, staff: Any) -> None:
    day = ActivityFactory(community=world.home)
    for entries, code in (
        ([{"item": "理发", "count": 0}], "count"),
        ([{"item": " ", "count": 3}], "item"),
        ([], "empty"),
    ):
        with pytest.raises(ValidationError) as exc:
            services.service_record_add(activity=day, entries=entries, actor=staff, now=NOW)
        assert exc.value.code == code
    # One bad entry stores none of the good ones.
    with pytest.raises(ValidationError):
        services.service_record_add(
            activity=day,
            entries=[{"item": "理发", "count": 3}, {"item": "磨刀", "count": -1}],
            actor=staff,
            now=NOW,
        )
    assert not ServiceRecord.objects.exists()


# --- patrol logs ------------------------------------------------------------------------


def test_a_team_member_logs_a_patrol_an_outsider_may_not(
    world: Any, resident: Any, staff: Any, outsider: Any
) -> None:
    team = TeamFactory(community=world.home, kind=Team.Kind.PATROL)
    services.team_member_add(team=team, actor=staff, now=NOW, user=resident)
    log = services.patrol_log_add(
        team=team,
        actor=resident,
        route="小区一圈",
        started_at=NOW,
        ended_at=NOW + HOUR,
        findings="一切正常，南门有电动车堵消防通道",
        items=[{"description": "南门电动车堵消防通道"}],
    )
    assert log.finding_items.count() == 1
    assert list(team_patrol_logs(user=resident, team=team)) == [log]
    assert not team_patrol_logs(user=outsider, team=team).exists()
    with pytest.raises(PermissionDenied):
        services.patrol_log_add(
            team=team, actor=outsider, route="小区一圈", started_at=NOW, ended_at=NOW + HOUR
        )
    with pytest.raises(ValidationError):
        services.patrol_log_add(
            team=team, actor=resident, route="小区一圈", started_at=NOW, ended_at=NOW - HOUR
        )
    assert PatrolLog.objects.count() == 1


def test_staff_turn_a_finding_into_a_patrol_grievance_once(
    world: Any, staff: Any, lamp: Category
) -> None:
    finding = _patrol(world, staff, category=lamp)
    assert list(open_patrol_findings(user=staff, community=world.home)) == [finding]

    grievance = services.patrol_finding_to_grievance(finding=finding, actor=staff, now=NOW)

    assert grievance.channel == Grievance.Channel.PATROL
    assert grievance.source_ref == f"patrol-finding:{finding.pk}"
    assert grievance.community == world.home and grievance.building == world.building_a
    assert grievance.category == lamp and grievance.submitted_by == staff
    assert grievance.title == "3号楼楼道灯不亮"
    finding.refresh_from_db()
    assert finding.grievance == grievance
    assert not open_patrol_findings(user=staff, community=world.home).exists()
    # Turning it again (a double click, a second person) files nothing more.
    again = services.patrol_finding_to_grievance(finding=finding, actor=staff, now=NOW + HOUR)
    assert again == grievance
    assert Grievance.objects.count() == 1


def test_a_grid_worker_files_a_finding_with_a_chosen_category(
    world: Any, grid_worker: Any, lamp: Category
) -> None:
    finding = _patrol(world, grid_worker)
    with pytest.raises(ValidationError) as exc:
        services.patrol_finding_to_grievance(finding=finding, actor=grid_worker, now=NOW)
    assert exc.value.code == "category"
    grievance = services.patrol_finding_to_grievance(
        finding=finding, actor=grid_worker, now=NOW, category=lamp, title="楼道灯坏了"
    )
    assert grievance.title == "楼道灯坏了" and grievance.channel == Grievance.Channel.PATROL


def test_a_patrol_member_without_a_filing_role_cannot_file(
    world: Any, resident: Any, lamp: Category
) -> None:
    finding = _patrol(world, resident, category=lamp)  # the resident leads the patrol
    with pytest.raises(PermissionDenied):
        services.patrol_finding_to_grievance(finding=finding, actor=resident, now=NOW)
    finding.refresh_from_db()
    assert finding.grievance is None and not Grievance.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_double_click_on_file_files_one_grievance(
    require_postgres: None, world: Any, staff: Any, lamp: Category
) -> None:
    finding = _patrol(world, staff, category=lamp)
    barrier = threading.Barrier(2)
    filed: list[int] = []

    def file() -> None:
        try:
            barrier.wait()
            grievance = services.patrol_finding_to_grievance(finding=finding, actor=staff, now=NOW)
            filed.append(grievance.pk)
        finally:
            connection.close()

    threads = [threading.Thread(target=file) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    finding.refresh_from_db()
    assert Grievance.objects.count() == 1
    assert filed == [finding.grievance_id] * 2
