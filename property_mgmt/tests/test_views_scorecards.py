"""The scorecard and black-list pages: the office computes a quarter and publishes a
company's scorecard (once), confirms, dismisses and removes entries; the company's staff
respond; the community reads the public board; everyone else gets 404."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from community.models import Membership, Organization
from community.tests.factories import MembershipFactory, OrganizationFactory, UserFactory
from property_mgmt.models import BlacklistEntry, Scorecard
from property_mgmt.services.scorecards import blacklist_confirm
from property_mgmt.tests.factories_surveys import (
    NOW,
    Q1,
    BlacklistEntryFactory,
    BlacklistRuleFactory,
    SurveyFactory,
    SurveyResponseFactory,
)

pytestmark = pytest.mark.django_db
Role = Membership.Role
Status = BlacklistEntry.Status
SCORECARDS = reverse("property:scorecard-office")
PUBLISH = reverse("property:scorecard-publish")
PUBLISHED = reverse("property:scorecard-list")
BOARD = reverse("property:blacklist-board")
BL_OFFICE = reverse("property:blacklist-office")
COMPANY = reverse("property:blacklist-company")


def _texts(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def _rated(world: Any, overall: int) -> None:
    """household_a rated the company `overall` in a survey of the first quarter of 2026."""
    survey = SurveyFactory.create(community=world.home, provider=world.property_company)
    survey.estates.add(world.estate)
    SurveyResponseFactory(
        survey=survey,
        household=world.household_a,
        building=world.building_a,
        estate=world.estate,
        overall=overall,
    )


def _entry(world: Any, *, provider: Organization | None = None, **kw: Any) -> BlacklistEntry:
    entry: BlacklistEntry = BlacklistEntryFactory.create(
        community=world.home, provider=provider or world.property_company, **kw
    )
    return entry


def _listed(world: Any, staff: Any, **kw: Any) -> BlacklistEntry:
    return blacklist_confirm(
        entry=_entry(world, **kw), actor=staff, evidence="三次整改通知未回复", now=NOW
    )


def _action(entry: BlacklistEntry, action: str) -> str:
    return reverse("property:blacklist-action", args=[entry.pk, action])


# --- who may come in ----------------------------------------------------------------------


def test_outsider_is_denied_every_page(client: Any, world: Any, staff: Any, outsider: Any) -> None:
    entry = _listed(world, staff)
    client.force_login(outsider)
    for url in (SCORECARDS, PUBLISHED, BOARD, BL_OFFICE, COMPANY):
        assert client.get(url).status_code == 404, url
    publish = {"quarter": "2026Q1", "provider": world.property_company.pk}
    assert client.post(PUBLISH, publish).status_code == 404
    for action in ("remove", "respond"):
        assert client.post(_action(entry, action), {"text": "x"}).status_code == 404
    assert not Scorecard.objects.exists()
    entry.refresh_from_db()
    assert (entry.status, entry.response) == (Status.LISTED, "")


def test_anonymous_visitor_is_sent_to_log_in(client: Any, world: Any) -> None:
    response = client.get(BOARD)
    assert response.status_code == 302
    assert "login" in response.url


def test_residents_and_property_staff_do_not_reach_the_office_pages(
    client: Any, world: Any, resident: Any, property_staff: Any
) -> None:
    for user in (resident, property_staff):
        client.force_login(user)
        for url in (SCORECARDS, PUBLISHED, BL_OFFICE):
            assert client.get(url).status_code == 404, url


# --- scorecards ---------------------------------------------------------------------------


def test_staff_see_the_quarter_and_publish_a_scorecard_once(
    client: Any, world: Any, staff: Any
) -> None:
    _rated(world, 4)
    client.force_login(staff)
    page = client.get(f"{SCORECARDS}?quarter=2026Q1")
    assert page.status_code == 200
    assert page.context["period"] == Q1
    [row] = page.context["rows"]
    assert row["figures"].provider_id == world.property_company.pk
    assert row["figures"].satisfaction == 4
    assert world.property_company.name in page.content.decode()
    assert b'data-testid="publish"' in page.content

    publish = {"quarter": "2026Q1", "provider": world.property_company.pk}
    response = client.post(PUBLISH, publish, follow=True)
    assert _texts(response) == [
        _("Scorecard of %(provider)s for %(quarter)s published.")
        % {"provider": world.property_company.name, "quarter": "2026Q1"}
    ]
    card = Scorecard.objects.get()
    assert (card.period_start, card.period_end, card.satisfaction) == (*Q1, 4)
    assert card.published_by == staff
    assert b'data-testid="published"' in response.content

    again = client.post(PUBLISH, publish, follow=True)
    assert _texts(again) == [
        _("A scorecard of this provider for this period is already published.")
    ]
    assert Scorecard.objects.count() == 1

    listed = client.get(PUBLISHED)
    assert [r["card"].pk for r in listed.context["rows"]] == [card.pk]


def test_publishing_a_failing_scorecard_proposes_the_company(
    client: Any, world: Any, staff: Any
) -> None:
    BlacklistRuleFactory(community=world.home)  # satisfaction below 3.00
    _rated(world, 2)
    client.force_login(staff)
    client.post(PUBLISH, {"quarter": "2026Q1", "provider": world.property_company.pk})
    entry = BlacklistEntry.objects.get()
    assert entry.status == Status.PROPOSED
    page = client.get(BL_OFFICE)
    assert b'data-testid="confirm"' in page.content
    assert entry.reasons in page.content.decode()


def test_staff_of_another_community_cannot_publish_this_communitys_company(
    client: Any, world: Any
) -> None:
    stranger = UserFactory()
    MembershipFactory(user=stranger, role=Role.COMMUNITY_STAFF, community=world.other)
    client.force_login(stranger)
    page = client.get(f"{SCORECARDS}?quarter=2026Q1")
    assert page.context["community"] == world.other
    assert page.context["rows"] == []
    response = client.post(PUBLISH, {"quarter": "2026Q1", "provider": world.property_company.pk})
    assert response.status_code == 404
    assert not Scorecard.objects.exists()


def test_published_list_queries_do_not_grow_with_rows(
    client: Any, world: Any, staff: Any, django_assert_max_num_queries: Any
) -> None:
    def publish(n: int) -> None:
        company = OrganizationFactory(kind=Organization.Kind.PROPERTY_COMPANY)
        Scorecard.objects.create(
            community=world.home,
            provider=company,
            period_start=Q1[0],
            period_end=Q1[1],
            households=10 + n,
            published_at=NOW,
            published_by=staff,
        )

    publish(0)
    client.force_login(staff)
    client.get(PUBLISHED)
    with django_assert_max_num_queries(50) as ctx:
        assert client.get(PUBLISHED).status_code == 200
    one = len(ctx.captured_queries)
    for n in range(1, 25):
        publish(n)
    with django_assert_max_num_queries(one):
        response = client.get(PUBLISHED)
    assert len(response.context["rows"]) == 20


# --- the office's black list -----------------------------------------------------------------


def test_confirming_needs_evidence_and_then_lists_the_company(
    client: Any, world: Any, staff: Any
) -> None:
    entry = _entry(world)
    client.force_login(staff)
    refused = client.post(_action(entry, "confirm"), {"text": "  "}, follow=True)
    assert _texts(refused) == [_("Give the evidence for putting the provider on the black list.")]
    entry.refresh_from_db()
    assert entry.status == Status.PROPOSED

    done = client.post(_action(entry, "confirm"), {"text": "整改通知三次未回复"}, follow=True)
    assert _texts(done) == [_("The provider is on the black list now.")]
    entry.refresh_from_db()
    assert (entry.status, entry.evidence, entry.listed_by) == (
        Status.LISTED,
        "整改通知三次未回复",
        staff,
    )
    assert b'data-testid="remove"' in done.content


def test_staff_dismiss_a_proposal(client: Any, world: Any, staff: Any) -> None:
    entry = _entry(world)
    client.force_login(staff)
    response = client.post(_action(entry, "dismiss"), {"text": "数据有误"}, follow=True)
    assert _texts(response) == [_("The proposal is dismissed.")]
    entry.refresh_from_db()
    assert (entry.status, entry.close_reason, entry.closed_by) == (
        Status.DISMISSED,
        "数据有误",
        staff,
    )
    # A dismissed proposal cannot be confirmed any more.
    again = client.post(_action(entry, "confirm"), {"text": "证据"}, follow=True)
    assert _texts(again) == [
        _("This entry is %(status)s and cannot be changed that way.")
        % {"status": Status.DISMISSED.label}
    ]


def test_removal_needs_a_reason_and_is_recorded(client: Any, world: Any, staff: Any) -> None:
    entry = _listed(world, staff)
    client.force_login(staff)
    refused = client.post(_action(entry, "remove"), {"text": ""}, follow=True)
    assert _texts(refused) == [_("Say why the provider is removed.")]
    entry.refresh_from_db()
    assert entry.status == Status.LISTED

    done = client.post(_action(entry, "remove"), {"text": "已整改，居民满意"}, follow=True)
    assert _texts(done) == [_("The provider is removed from the black list.")]
    entry.refresh_from_db()
    assert (entry.status, entry.close_reason, entry.closed_by) == (
        Status.REMOVED,
        "已整改，居民满意",
        staff,
    )
    assert "已整改，居民满意" in done.content.decode()


def test_staff_of_another_community_get_404_on_an_entry(
    client: Any, world: Any, staff: Any
) -> None:
    entry = _entry(world)
    stranger = UserFactory()
    MembershipFactory(user=stranger, role=Role.COMMUNITY_STAFF, community=world.other)
    client.force_login(stranger)
    assert client.post(_action(entry, "confirm"), {"text": "证据"}).status_code == 404
    assert f'data-testid="entry-{entry.pk}"' not in client.get(BL_OFFICE).content.decode()
    entry.refresh_from_db()
    assert entry.status == Status.PROPOSED


def test_blacklist_office_queries_do_not_grow_with_entries(
    client: Any, world: Any, staff: Any, django_assert_max_num_queries: Any
) -> None:
    def company() -> Organization:
        org: Organization = OrganizationFactory.create(kind=Organization.Kind.PROPERTY_COMPANY)
        return org

    _entry(world, provider=company())
    client.force_login(staff)
    client.get(BL_OFFICE)
    with django_assert_max_num_queries(50) as ctx:
        assert client.get(BL_OFFICE).status_code == 200
    one = len(ctx.captured_queries)
    for _n in range(24):
        _entry(world, provider=company())
    with django_assert_max_num_queries(one):
        response = client.get(BL_OFFICE)
    assert len(response.context["page"].object_list) == 20


# --- the company's staff ------------------------------------------------------------------


def test_the_company_responds_and_the_board_shows_it(
    client: Any, world: Any, staff: Any, property_staff: Any, resident: Any
) -> None:
    entry = _listed(world, staff)
    client.force_login(property_staff)
    page = client.get(COMPANY)
    assert f'data-testid="entry-{entry.pk}"' in page.content.decode()
    response = client.post(
        _action(entry, "respond"), {"text": "已增派保洁人员，月底前整改完毕"}, follow=True
    )
    assert _texts(response) == [_("Your response is on the public board.")]
    entry.refresh_from_db()
    assert (entry.response, entry.responded_by) == (
        "已增派保洁人员，月底前整改完毕",
        property_staff,
    )

    client.force_login(resident)
    board = client.get(BOARD).content.decode()
    assert "已增派保洁人员，月底前整改完毕" in board


def test_an_empty_response_is_refused(
    client: Any, world: Any, staff: Any, property_staff: Any
) -> None:
    entry = _listed(world, staff)
    client.force_login(property_staff)
    response = client.post(_action(entry, "respond"), {"text": " "}, follow=True)
    assert _texts(response) == [_("Write a response.")]


def test_staff_of_another_company_cannot_see_or_respond(
    client: Any, world: Any, staff: Any
) -> None:
    entry = _listed(world, staff)
    rival = UserFactory()
    MembershipFactory(
        user=rival,
        role=Role.PROPERTY_STAFF,
        organization=OrganizationFactory(kind=Organization.Kind.PROPERTY_COMPANY),
    )
    client.force_login(rival)
    page = client.get(COMPANY)
    assert page.status_code == 200
    assert b'data-testid="no-entries"' in page.content
    assert client.post(_action(entry, "respond"), {"text": "不是我们"}).status_code == 404
    entry.refresh_from_db()
    assert entry.response == ""


def test_community_staff_may_not_answer_for_the_company(
    client: Any, world: Any, staff: Any
) -> None:
    entry = _listed(world, staff)
    client.force_login(staff)
    response = client.post(_action(entry, "respond"), {"text": "代答"}, follow=True)
    assert _texts(response) == [_("Only the provider's own staff may respond.")]


def test_company_page_queries_do_not_grow_with_entries(
    client: Any, world: Any, staff: Any, property_staff: Any, django_assert_max_num_queries: Any
) -> None:
    _listed(world, staff)
    client.force_login(property_staff)
    client.get(COMPANY)
    with django_assert_max_num_queries(50) as ctx:
        assert client.get(COMPANY).status_code == 200
    one = len(ctx.captured_queries)
    for _n in range(5):
        BlacklistEntryFactory(
            community=world.other,
            provider=world.property_company,
            status=Status.DISMISSED,
            closed_at=NOW,
            closed_by=staff,
        )
    with django_assert_max_num_queries(one):
        response = client.get(COMPANY)
    assert len(response.context["page"].object_list) == 6


# --- the public board ----------------------------------------------------------------------


def test_the_board_shows_listed_companies_to_the_community(
    client: Any, world: Any, staff: Any, resident: Any, grid_worker: Any, property_staff: Any
) -> None:
    listed = _listed(world, staff)
    proposed_company = OrganizationFactory(kind=Organization.Kind.PROPERTY_COMPANY)
    _entry(world, provider=proposed_company)
    for user in (resident, grid_worker, staff, property_staff):
        client.force_login(user)
        response = client.get(BOARD)
        assert response.status_code == 200
        html = response.content.decode()
        assert world.property_company.name in html
        assert listed.reasons in html
        assert proposed_company.name not in html  # only confirmed entries are public
        assert timezone.localtime(listed.listed_at).strftime("%Y-%m-%d") in html
    printable = client.get(f"{BOARD}?print=1")
    assert printable.status_code == 200
    assert listed.reasons in printable.content.decode()
    assert b"window.print()" in printable.content


def test_another_communitys_board_does_not_show_this_list(
    client: Any, world: Any, staff: Any
) -> None:
    _listed(world, staff)
    neighbour = UserFactory()
    MembershipFactory(user=neighbour, role=Role.COMMUNITY_STAFF, community=world.other)
    client.force_login(neighbour)
    response = client.get(f"{BOARD}?community={world.home.pk}")
    assert response.context["community"] == world.other
    assert b'data-testid="board-empty"' in response.content


def test_board_queries_do_not_grow_with_entries(
    client: Any, world: Any, staff: Any, resident: Any, django_assert_max_num_queries: Any
) -> None:
    _listed(world, staff)
    client.force_login(resident)
    client.get(BOARD)
    with django_assert_max_num_queries(50) as ctx:
        assert client.get(BOARD).status_code == 200
    one = len(ctx.captured_queries)
    for _n in range(6):
        _listed(world, staff, provider=OrganizationFactory(kind=Organization.Kind.PROPERTY_COMPANY))
    with django_assert_max_num_queries(one):
        response = client.get(BOARD)
    assert len(response.context["rows"]) == 7
