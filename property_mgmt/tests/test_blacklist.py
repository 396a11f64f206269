"""The black list (挂黑榜): rules applied on publishing a scorecard, then staff confirm
with evidence (the company is told), the company responds, staff remove on the record;
the public board shows what is listed."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from accounts.models import Notification
from community.models import Membership, Organization
from community.tests.factories import MembershipFactory, OrganizationFactory, UserFactory
from property_mgmt.models import BlacklistEntry, BlacklistRule, Survey
from property_mgmt.selectors.scorecards import blacklist_entries, public_blacklist
from property_mgmt.services.scorecards import (
    blacklist_confirm,
    blacklist_dismiss,
    blacklist_remove,
    blacklist_respond,
    blacklist_rule_set,
    scorecard_publish,
)
from property_mgmt.tests.factories_surveys import (
    NOW,
    Q1,
    Q2,
    BlacklistEntryFactory,
    BlacklistRuleFactory,
    SurveyFactory,
    SurveyResponseFactory,
)

pytestmark = pytest.mark.django_db
Metric = BlacklistRule.Metric
Comparison = BlacklistRule.Comparison
Status = BlacklistEntry.Status
LATER = NOW + dt.timedelta(days=3)


def _rated(world: Any, overall: int, period: tuple[dt.date, dt.date] = Q1) -> Survey:
    """A survey of the period where household_a rated the provider `overall`."""
    survey = SurveyFactory.create(
        community=world.home,
        provider=world.property_company,
        period_start=period[0],
        period_end=period[1],
    )
    survey.estates.add(world.estate)
    SurveyResponseFactory(
        survey=survey,
        household=world.household_a,
        building=world.building_a,
        estate=world.estate,
        overall=overall,
    )
    return survey


def _publish(world: Any, staff: Any, period: tuple[dt.date, dt.date] = Q1) -> Any:
    return scorecard_publish(
        actor=staff,
        community=world.home,
        provider=world.property_company,
        period_start=period[0],
        period_end=period[1],
        now=NOW,
    )


def _rule(world: Any, metric: str, comparison: str, threshold: str, **kw: Any) -> BlacklistRule:
    return BlacklistRuleFactory.create(
        community=world.home,
        metric=metric,
        comparison=comparison,
        threshold=Decimal(threshold),
        **kw,
    )


# --- rules ----------------------------------------------------------------------------


def test_satisfaction_below_the_threshold_proposes_the_provider(world: Any, staff: Any) -> None:
    _rated(world, 2)
    _rule(world, Metric.SATISFACTION, Comparison.BELOW, "3.00")
    card = _publish(world, staff)
    entry = BlacklistEntry.objects.get()
    assert (entry.status, entry.provider, entry.scorecard) == (
        Status.PROPOSED,
        world.property_company,
        card,
    )
    assert "2.00" in entry.reasons and "3.00" in entry.reasons
    assert entry.proposed_at == NOW


def test_a_figure_above_its_threshold_proposes_and_each_broken_rule_is_a_reason(
    world: Any, staff: Any
) -> None:
    _rated(world, 2)
    # 0 complaints in 2 households: 0 per 1,000 is not above 10 → not broken.
    _rule(world, Metric.COMPLAINTS_PER_1000, Comparison.ABOVE, "10")
    _rule(world, Metric.SATISFACTION, Comparison.BELOW, "3.00")
    _rule(world, Metric.SATISFACTION, Comparison.ABOVE, "1.50")
    _publish(world, staff)
    lines = BlacklistEntry.objects.get().reasons.splitlines()
    assert len(lines) == 2
    assert all("2.00" in line for line in lines)
    assert any("1.50" in line for line in lines) and any("3.00" in line for line in lines)


def test_a_scorecard_within_the_rules_proposes_nothing(world: Any, staff: Any) -> None:
    _rated(world, 4)
    _rule(world, Metric.SATISFACTION, Comparison.BELOW, "3.00")
    _publish(world, staff)
    assert not BlacklistEntry.objects.exists()


def test_an_inactive_rule_is_ignored(world: Any, staff: Any) -> None:
    _rated(world, 1)
    _rule(world, Metric.SATISFACTION, Comparison.BELOW, "3.00", is_active=False)
    _publish(world, staff)
    assert not BlacklistEntry.objects.exists()


def test_a_rule_of_another_community_is_ignored(world: Any, staff: Any) -> None:
    _rated(world, 1)
    BlacklistRuleFactory(community=world.other, threshold=Decimal("3.00"))
    _publish(world, staff)
    assert not BlacklistEntry.objects.exists()


def test_a_figure_without_data_breaks_no_rule(world: Any, staff: Any) -> None:
    _rule(world, Metric.SATISFACTION, Comparison.BELOW, "3.00")  # nobody answered
    _rule(world, Metric.COLLECTION_RATE, Comparison.BELOW, "0.5")  # nothing billed
    card = _publish(world, staff)
    assert card.satisfaction is None
    assert not BlacklistEntry.objects.exists()


def test_a_provider_already_proposed_gets_no_second_entry(world: Any, staff: Any) -> None:
    _rated(world, 1)
    _rated(world, 1, period=Q2)
    _rule(world, Metric.SATISFACTION, Comparison.BELOW, "3.00")
    first_card = _publish(world, staff)
    _publish(world, staff, period=Q2)
    [entry] = BlacklistEntry.objects.all()
    assert entry.scorecard == first_card


def test_after_removal_a_new_failing_scorecard_proposes_again(world: Any, staff: Any) -> None:
    _rated(world, 1)
    _rated(world, 1, period=Q2)
    _rule(world, Metric.SATISFACTION, Comparison.BELOW, "3.00")
    _publish(world, staff)
    entry = BlacklistEntry.objects.get()
    blacklist_confirm(entry=entry, actor=staff, evidence="测评结果", now=NOW)
    blacklist_remove(entry=entry, actor=staff, reason="已整改", now=LATER)
    _publish(world, staff, period=Q2)
    assert BlacklistEntry.objects.filter(status=Status.PROPOSED).count() == 1
    assert BlacklistEntry.objects.count() == 2


def test_staff_set_rules_and_others_may_not(world: Any, staff: Any, property_staff: Any) -> None:
    rule = blacklist_rule_set(
        actor=staff,
        community=world.home,
        metric=Metric.ON_TIME_RATE,
        comparison=Comparison.BELOW,
        threshold=Decimal("0.8"),
    )
    again = blacklist_rule_set(
        actor=staff,
        community=world.home,
        metric=Metric.ON_TIME_RATE,
        comparison=Comparison.BELOW,
        threshold=Decimal("0.7"),
        is_active=False,
    )
    assert again.pk == rule.pk
    assert (again.threshold, again.is_active) == (Decimal("0.7"), False)
    with pytest.raises(PermissionDenied):
        blacklist_rule_set(
            actor=property_staff,
            community=world.home,
            metric=Metric.ON_TIME_RATE,
            comparison=Comparison.BELOW,
            threshold=Decimal("0.1"),
        )


# --- confirm, respond, remove ------------------------------------------------------------


@pytest.fixture
def entry(world: Any) -> BlacklistEntry:
    return BlacklistEntryFactory.create(community=world.home, provider=world.property_company)


def test_staff_confirm_with_evidence_and_the_company_is_told(
    world: Any, entry: BlacklistEntry, staff: Any, property_staff: Any
) -> None:
    blacklist_confirm(entry=entry, actor=staff, evidence="二季度测评记录及照片", now=NOW)
    entry.refresh_from_db()
    assert (entry.status, entry.listed_by, entry.listed_at) == (Status.LISTED, staff, NOW)
    assert entry.evidence == "二季度测评记录及照片"
    [note] = Notification.objects.filter(user=property_staff)
    assert note.body == entry.reasons
    assert world.property_company.name in note.subject
    # The office is not notified of its own decision.
    assert not Notification.objects.filter(user=staff).exists()


def test_confirming_needs_evidence(entry: BlacklistEntry, staff: Any) -> None:
    with pytest.raises(ValidationError):
        blacklist_confirm(entry=entry, actor=staff, evidence="  ", now=NOW)
    entry.refresh_from_db()
    assert entry.status == Status.PROPOSED


@pytest.mark.parametrize("persona", ["outsider", "property_staff", "street_supervisor", "resident"])
def test_only_community_staff_confirm(
    entry: BlacklistEntry, persona: str, request: pytest.FixtureRequest
) -> None:
    with pytest.raises(PermissionDenied):
        blacklist_confirm(
            entry=entry, actor=request.getfixturevalue(persona), evidence="证据", now=NOW
        )
    entry.refresh_from_db()
    assert entry.status == Status.PROPOSED


def test_staff_of_another_community_cannot_confirm(world: Any, entry: BlacklistEntry) -> None:
    elsewhere = UserFactory()
    MembershipFactory(user=elsewhere, role=Membership.Role.COMMUNITY_STAFF, community=world.other)
    with pytest.raises(PermissionDenied):
        blacklist_confirm(entry=entry, actor=elsewhere, evidence="证据", now=NOW)


def test_a_dismissed_entry_cannot_be_listed(entry: BlacklistEntry, staff: Any) -> None:
    blacklist_dismiss(entry=entry, actor=staff, reason="数据有误", now=NOW)
    entry.refresh_from_db()
    assert (entry.status, entry.closed_by, entry.close_reason) == (
        Status.DISMISSED,
        staff,
        "数据有误",
    )
    with pytest.raises(ValidationError):
        blacklist_confirm(entry=entry, actor=staff, evidence="证据", now=NOW)


def test_the_company_responds_to_its_listing(
    entry: BlacklistEntry, staff: Any, property_staff: Any
) -> None:
    with pytest.raises(ValidationError):  # not listed yet
        blacklist_respond(entry=entry, actor=property_staff, response="我们已整改", now=NOW)
    blacklist_confirm(entry=entry, actor=staff, evidence="证据", now=NOW)
    blacklist_respond(entry=entry, actor=property_staff, response=" 已增派保洁 ", now=LATER)
    entry.refresh_from_db()
    assert (entry.response, entry.responded_by, entry.responded_at) == (
        "已增派保洁",
        property_staff,
        LATER,
    )


@pytest.mark.parametrize("persona", ["staff", "outsider", "resident"])
def test_only_the_companys_own_staff_respond(
    entry: BlacklistEntry, staff: Any, persona: str, request: pytest.FixtureRequest
) -> None:
    blacklist_confirm(entry=entry, actor=staff, evidence="证据", now=NOW)
    with pytest.raises(PermissionDenied):
        blacklist_respond(
            entry=entry, actor=request.getfixturevalue(persona), response="回应", now=NOW
        )


def test_staff_of_another_company_cannot_respond(entry: BlacklistEntry, staff: Any) -> None:
    blacklist_confirm(entry=entry, actor=staff, evidence="证据", now=NOW)
    rival = UserFactory()
    MembershipFactory(
        user=rival,
        role=Membership.Role.PROPERTY_STAFF,
        organization=OrganizationFactory(kind=Organization.Kind.PROPERTY_COMPANY),
    )
    with pytest.raises(PermissionDenied):
        blacklist_respond(entry=entry, actor=rival, response="回应", now=NOW)
    entry.refresh_from_db()
    assert entry.response == ""


def test_removal_is_recorded_with_who_and_why(
    entry: BlacklistEntry, staff: Any, property_staff: Any
) -> None:
    blacklist_confirm(entry=entry, actor=staff, evidence="证据", now=NOW)
    with pytest.raises(PermissionDenied):
        blacklist_remove(entry=entry, actor=property_staff, reason="我们整改了", now=LATER)
    with pytest.raises(ValidationError):
        blacklist_remove(entry=entry, actor=staff, reason="", now=LATER)
    blacklist_remove(entry=entry, actor=staff, reason="三个月整改达标", now=LATER)
    entry.refresh_from_db()
    assert (entry.status, entry.closed_by, entry.closed_at, entry.close_reason) == (
        Status.REMOVED,
        staff,
        LATER,
        "三个月整改达标",
    )
    assert entry.history.filter(status=Status.REMOVED, history_user=staff).exists()
    with pytest.raises(ValidationError):
        blacklist_remove(entry=entry, actor=staff, reason="再次", now=LATER)


# --- the board --------------------------------------------------------------------------


def test_the_public_board_shows_listed_entries_with_reasons_and_response(
    world: Any, entry: BlacklistEntry, staff: Any, property_staff: Any
) -> None:
    assert public_blacklist(community=world.home) == []  # proposed is not public
    blacklist_confirm(entry=entry, actor=staff, evidence="内部证据", now=NOW)
    blacklist_respond(entry=entry, actor=property_staff, response="已整改", now=LATER)
    [row] = public_blacklist(community=world.home)
    assert row.provider_name == world.property_company.name
    assert row.reasons == ["满意度 2.80，低于 3.00"]
    assert (row.listed_at, row.response) == (NOW, "已整改")
    assert public_blacklist(community=world.other) == []

    blacklist_remove(entry=entry, actor=staff, reason="整改达标", now=LATER)
    assert public_blacklist(community=world.home) == []


def test_the_entries_list_is_for_staff_and_the_companys_own_staff(
    world: Any, entry: BlacklistEntry, staff: Any, property_staff: Any, outsider: Any
) -> None:
    other_entry = BlacklistEntryFactory(community=world.home)
    assert {e.pk for e in blacklist_entries(user=staff, community=world.home)} == {
        entry.pk,
        other_entry.pk,
    }
    assert [e.pk for e in blacklist_entries(user=property_staff, community=world.home)] == [
        entry.pk
    ]
    assert blacklist_entries(user=outsider, community=world.home) == []
