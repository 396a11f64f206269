"""Who sees which grievance, timeline line and photo: exactly, persona by persona."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest

from community.models import Membership, Organization
from community.tests.factories import MembershipFactory, OrganizationFactory, UserFactory
from grievances import selectors, services
from grievances.models import Grievance, TimelineEvent

pytestmark = pytest.mark.django_db
Channel = Grievance.Channel
Role = Membership.Role


@dataclass
class Story:
    mine: Grievance  # resident_a's, at building_a (grid_a), dispatched to the company
    neighbours: Grievance  # resident_b's by hotline, at building_b (grid_b)
    anonymous: Grievance  # an anonymous slip about building_a
    found: Grievance  # the grid worker's patrol finding at building_b (not their grid)
    partner: Grievance  # at building_b, dispatched to a partner unit
    assigned: Grievance  # at building_b, dispatched to a party member by name
    elsewhere: Grievance  # in the other community
    partner_user: Any
    member: Any
    neighbour: Any
    other_staff: Any


@pytest.fixture
def story(flow: Any, grid_worker: Any) -> Story:
    world = flow.world
    neighbour = UserFactory(name="李秀英")
    world.resident_b.user = neighbour
    world.resident_b.save(update_fields=["user"])
    mine, _dispatch = flow.dispatched()
    neighbours = flow.file(
        channel=Channel.HOTLINE,
        submitted_by=flow.staff,
        reporter=world.resident_b,
        caller_phone="13900001234",
        category=flow.categories.dispute,
    )
    anonymous = flow.file(
        channel=Channel.SUGGESTION_BOX,
        category=flow.categories.suggestion,
        is_anonymous=True,
        building=world.building_a,
        submitted_by=flow.staff,
    )
    found = flow.file(
        channel=Channel.GRID_WORKER, submitted_by=grid_worker, building=world.building_b
    )
    unit = OrganizationFactory(kind=Organization.Kind.PARTNER_UNIT, name="供电所")
    partner_user = UserFactory()
    MembershipFactory(user=partner_user, role=Role.PARTNER_STAFF, organization=unit)
    partner = flow.accepted(
        channel=Channel.GRID_WORKER, submitted_by=grid_worker, building=world.building_b
    )
    services.grievance_dispatch(
        grievance=partner, actor=flow.staff, now=flow.tick(), organization=unit
    )
    member = UserFactory()
    assigned = flow.accepted(
        channel=Channel.GRID_WORKER, submitted_by=grid_worker, building=world.building_b
    )
    services.grievance_dispatch(
        grievance=assigned, actor=flow.staff, now=flow.tick(), assignee=member
    )
    other_staff = UserFactory()
    MembershipFactory(user=other_staff, role=Role.COMMUNITY_STAFF, community=world.other)
    elsewhere = flow.file(
        community=world.other,
        channel=Channel.HOTLINE,
        submitted_by=other_staff,
        caller_phone="13900005678",
        building=world.other_building,
    )
    return Story(
        mine=mine,
        neighbours=neighbours,
        anonymous=anonymous,
        found=found,
        partner=partner,
        assigned=assigned,
        elsewhere=elsewhere,
        partner_user=partner_user,
        member=member,
        neighbour=neighbour,
        other_staff=other_staff,
    )


def _seen(user: Any) -> set[int]:
    return set(selectors.grievance_list(user=user).values_list("pk", flat=True))


def _ids(*grievances: Grievance) -> set[int]:
    return {g.pk for g in grievances}


def test_the_outsider_sees_nothing(story: Story, outsider: Any) -> None:
    assert _seen(outsider) == set()
    for grievance in Grievance.objects.all():
        with pytest.raises(Grievance.DoesNotExist):
            selectors.grievance_detail(user=outsider, pk=grievance.pk)
        assert list(selectors.grievance_timeline(user=outsider, grievance=grievance)) == []
        assert list(selectors.grievance_photos(user=outsider, grievance=grievance)) == []
    assert list(selectors.grievance_queue_for_receiver(user=outsider)) == []


def test_anonymous_sees_nothing(story: Story) -> None:
    from django.contrib.auth.models import AnonymousUser

    assert _seen(AnonymousUser()) == set()
    assert _seen(None) == set()


def test_a_resident_sees_their_own_only(story: Story, flow: Any) -> None:
    assert _seen(flow.resident) == _ids(story.mine)


def test_a_resident_of_another_household_sees_only_theirs(story: Story) -> None:
    assert _seen(story.neighbour) == _ids(story.neighbours)
    with pytest.raises(Grievance.DoesNotExist):
        selectors.grievance_detail(user=story.neighbour, pk=story.mine.pk)


def test_a_household_member_sees_what_the_reporter_filed_elsewhere(story: Story, flow: Any) -> None:
    from community.tests.factories import ResidentFactory

    lamp = flow.file(building=flow.world.building_b)  # the problem is at another building
    assert lamp.household is None and lamp.reporter == flow.world.resident_a
    spouse = UserFactory()
    ResidentFactory(household=flow.world.household_a, user=spouse)
    assert _seen(spouse) == _ids(story.mine, lamp)


def test_the_grid_worker_sees_their_grid_and_what_they_filed(
    story: Story, grid_worker: Any
) -> None:
    # building_a is theirs: resident_a's grievance, not the anonymous slip there.
    assert _seen(grid_worker) == _ids(story.mine, story.found, story.partner, story.assigned)


def test_office_staff_see_their_whole_community(story: Story, flow: Any) -> None:
    everything_home = set(
        Grievance.objects.filter(community=flow.world.home).values_list("pk", flat=True)
    )
    assert _seen(flow.staff) == everything_home
    assert story.anonymous.pk in everything_home
    assert _seen(story.other_staff) == _ids(story.elsewhere)


def test_the_street_supervisor_sees_the_street(story: Story, street_supervisor: Any) -> None:
    assert _seen(street_supervisor) == set(Grievance.objects.values_list("pk", flat=True))


def test_property_staff_see_what_was_dispatched_to_their_company(story: Story, flow: Any) -> None:
    assert _seen(flow.property_staff) == _ids(story.mine)


def test_a_past_dispatch_still_counts(story: Story, flow: Any) -> None:
    dispatch = story.mine.dispatches.get()
    services.dispatch_decline(
        dispatch=dispatch, actor=flow.property_staff, reason="不归我们", now=flow.tick()
    )
    assert _seen(flow.property_staff) == _ids(story.mine)


def test_partner_staff_and_a_named_person_see_their_dispatches(story: Story) -> None:
    assert _seen(story.partner_user) == _ids(story.partner)
    assert _seen(story.member) == _ids(story.assigned)


def test_a_superuser_sees_everything(story: Story) -> None:
    root = UserFactory(is_superuser=True, is_staff=True)
    assert _seen(root) == set(Grievance.objects.values_list("pk", flat=True))


def test_nobody_but_the_office_sees_an_anonymous_slip(
    story: Story, flow: Any, grid_worker: Any
) -> None:
    for user in (flow.resident, story.neighbour, grid_worker, flow.property_staff):
        assert story.anonymous.pk not in _seen(user)


# --- the timeline ---------------------------------------------------------------------------


def test_residents_never_read_internal_notes(story: Story, flow: Any) -> None:
    services.grievance_progress_add(
        grievance=story.mine,
        actor=flow.staff,
        note="内部：注意沟通",
        now=flow.tick(),
        is_public=False,
    )
    services.grievance_progress_add(
        grievance=story.mine, actor=flow.staff, note="已联系物业", now=flow.tick()
    )
    resident_lines = list(selectors.grievance_timeline(user=flow.resident, grievance=story.mine))
    assert resident_lines and all(line.is_public for line in resident_lines)
    assert "已联系物业" in {line.note for line in resident_lines}
    for user in (flow.staff, flow.property_staff):
        notes = {
            line.note for line in selectors.grievance_timeline(user=user, grievance=story.mine)
        }
        assert "内部：注意沟通" in notes
    everything = TimelineEvent.objects.filter(grievance=story.mine).count()
    assert (
        len(list(selectors.grievance_timeline(user=flow.staff, grievance=story.mine))) == everything
    )


def test_the_timeline_is_in_order(story: Story, flow: Any) -> None:
    lines = list(selectors.grievance_timeline(user=flow.staff, grievance=story.mine))
    assert [(line.at, line.pk) for line in lines] == sorted((line.at, line.pk) for line in lines)


def test_a_neighbour_reads_no_timeline_of_mine(story: Story) -> None:
    assert list(selectors.grievance_timeline(user=story.neighbour, grievance=story.mine)) == []


# --- lists and the receiver's queue ---------------------------------------------------------


def test_the_board_filters(story: Story, flow: Any) -> None:
    staff = flow.staff
    assert set(selectors.grievance_list(user=staff, status="dispatched")) == {
        story.mine,
        story.partner,
        story.assigned,
    }
    assert set(selectors.grievance_list(user=staff, unassigned=True)) == set()
    assert set(selectors.grievance_list(user=staff, category=flow.categories.dispute)) == {
        story.neighbours
    }
    assert list(selectors.grievance_list(user=staff, search=f"#{story.found.pk}")) == [story.found]
    assert set(selectors.grievance_list(user=staff, building=flow.world.building_a)) == {
        story.mine,
        story.anonymous,
    }
    newest = list(selectors.grievance_list(user=staff))
    assert newest[0] == story.assigned and newest[-1] == story.mine


def test_the_board_knows_overdue_and_due_soon(story: Story, flow: Any) -> None:
    dispatch = story.mine.dispatches.get()
    services.dispatch_accept(dispatch=dispatch, actor=flow.property_staff, now=flow.tick())
    staff = flow.staff
    soon = flow.now + dt.timedelta(minutes=15)
    assert list(selectors.grievance_list(user=staff, overdue_at=flow.now)) == []
    assert list(selectors.grievance_list(user=staff, due_before=soon)) == [story.mine]
    later = flow.now + dt.timedelta(minutes=11)
    overdue = list(selectors.grievance_list(user=staff, overdue_at=later))
    assert overdue == [story.mine]
    assert overdue[0].next_due == flow.now + dt.timedelta(minutes=10)


def test_the_receivers_queue_puts_the_earliest_clock_first(flow: Any) -> None:
    first, d1 = flow.dispatched()
    second, d2 = flow.dispatched(category=flow.categories.leak, attributes={"where": "pipe"})
    third, _d3 = flow.dispatched()  # not yet accepted: no clock, last
    services.dispatch_accept(dispatch=d2, actor=flow.property_staff, now=flow.tick())
    services.dispatch_accept(dispatch=d1, actor=flow.property_staff, now=flow.tick())
    queue = list(selectors.grievance_queue_for_receiver(user=flow.property_staff))
    assert queue == [second, first, third]
    assert queue[2].dispatch_status == "pending"
    assert list(selectors.grievance_queue_for_receiver(user=flow.staff)) == []


def test_lists_take_a_constant_number_of_queries(
    story: Story, flow: Any, django_assert_max_num_queries: Any
) -> None:
    from accounts.models import User

    for _ in range(5):
        flow.dispatched()
    # Fresh user objects, as each request has: the scope is read once, then one query.
    staff = User.objects.get(pk=flow.staff.pk)
    with django_assert_max_num_queries(2):
        rows = list(selectors.grievance_list(user=staff))
        assert len(rows) > 5 and [(r.category.name, r.handler_organization) for r in rows]
    receiver = User.objects.get(pk=flow.property_staff.pk)
    with django_assert_max_num_queries(3):  # + the estates its company serves (scope_for)
        rows = list(selectors.grievance_queue_for_receiver(user=receiver))
        assert len(rows) > 5 and [(r.category.name, r.building) for r in rows]
