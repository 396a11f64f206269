"""Filing from every channel, what is checked, duplicates and merging."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from community.models import Membership
from community.tests.factories import MembershipFactory, UserFactory
from grievances import selectors, services
from grievances.models import Attachment, Grievance, SlaClock, TimelineEvent
from grievances.tests.factories import CategoryFactory, photo_upload

pytestmark = pytest.mark.django_db
Channel = Grievance.Channel
Status = Grievance.Status


def test_a_resident_files_from_the_portal_for_their_own_household(flow: Any) -> None:
    grievance = flow.file(photos=[photo_upload()])
    world = flow.world
    assert grievance.status == Status.SUBMITTED
    assert grievance.reporter == world.resident_a
    assert grievance.household == world.household_a
    assert (grievance.building, grievance.estate) == (world.building_a, world.estate)
    assert grievance.is_public and not grievance.is_anonymous
    created = TimelineEvent.objects.get(grievance=grievance, kind=TimelineEvent.Kind.CREATED)
    assert created.actor == flow.resident
    assert Attachment.objects.get(grievance=grievance).event == created


def test_a_resident_cannot_file_for_someone_else(flow: Any) -> None:
    with pytest.raises(PermissionDenied):
        flow.file(reporter=flow.world.resident_b)
    assert not Grievance.objects.exists()


def test_someone_without_a_home_here_cannot_use_the_portal(flow: Any, outsider: Any) -> None:
    with pytest.raises(PermissionDenied):
        flow.file(submitted_by=outsider)


def test_a_grid_worker_files_with_building_unit_and_position(flow: Any, grid_worker: Any) -> None:
    world = flow.world
    unit = world.household_b.unit
    grievance = flow.file(
        channel=Channel.GRID_WORKER,
        submitted_by=grid_worker,
        unit=unit,
        latitude="31.2304161",
        longitude=121.473701,
    )
    assert (grievance.unit, grievance.building, grievance.estate) == (
        unit,
        world.building_b,
        world.estate,
    )
    assert str(grievance.latitude) == "31.230416"
    assert grievance.reporter is None and grievance.household is None


def test_a_resident_cannot_use_the_grid_worker_channel(flow: Any) -> None:
    with pytest.raises(PermissionDenied):
        flow.file(channel=Channel.GRID_WORKER, building=flow.world.building_a)


def test_the_hotline_files_on_behalf_of_a_resident_with_the_callers_phone(flow: Any) -> None:
    grievance = flow.file(
        channel=Channel.HOTLINE,
        submitted_by=flow.staff,
        reporter=flow.world.resident_b,
        caller_name="李秀英",
        caller_phone="+86 139-0000-1234",
    )
    assert grievance.caller_phone == "13900001234"
    assert grievance.household == flow.world.household_b
    created = TimelineEvent.objects.get(grievance=grievance, kind=TimelineEvent.Kind.CREATED)
    assert created.on_behalf_of == flow.world.resident_b


def test_the_hotline_needs_the_callers_phone_and_office_staff(flow: Any, grid_worker: Any) -> None:
    with pytest.raises(ValidationError):
        flow.file(channel=Channel.HOTLINE, submitted_by=flow.staff, building=flow.world.building_a)
    with pytest.raises(PermissionDenied):
        flow.file(
            channel=Channel.HOTLINE,
            submitted_by=grid_worker,
            caller_phone="13900001234",
            building=flow.world.building_a,
        )


def test_an_anonymous_suggestion_keeps_nothing_that_names_the_writer(flow: Any) -> None:
    grievance = flow.file(
        channel=Channel.SUGGESTION_BOX,
        category=flow.categories.suggestion,
        is_anonymous=True,
        caller_name="张建国",
        caller_phone="13900001234",
        title="建议延长社区办公时间",
    )
    assert grievance.is_anonymous and not grievance.is_public
    assert grievance.reporter is None and grievance.household is None
    assert grievance.submitted_by is None
    assert (grievance.caller_name, grievance.caller_phone) == ("", "")
    assert grievance.history.get().history_user is None
    assert TimelineEvent.objects.get(grievance=grievance).actor is None


def test_the_office_copying_an_anonymous_slip_is_recorded(flow: Any) -> None:
    grievance = flow.file(
        channel=Channel.SUGGESTION_BOX,
        category=flow.categories.suggestion,
        is_anonymous=True,
        submitted_by=flow.staff,
    )
    assert grievance.submitted_by == flow.staff and grievance.reporter is None


def test_only_the_suggestion_box_is_anonymous(flow: Any) -> None:
    with pytest.raises(ValidationError):
        flow.file(is_anonymous=True)


def test_a_patrol_finding_from_another_app_names_its_source(flow: Any) -> None:
    grievance = flow.file(
        channel=Channel.PATROL,
        submitted_by=None,
        source_ref="patrol-log:12",
        building=flow.world.building_b,
    )
    assert grievance.source_ref == "patrol-log:12" and grievance.submitted_by is None
    with pytest.raises(PermissionDenied):
        flow.file(channel=Channel.PATROL, submitted_by=None, building=flow.world.building_b)


def test_property_staff_on_their_rounds_file_patrol_findings(flow: Any) -> None:
    grievance = flow.file(
        channel=Channel.PATROL, submitted_by=flow.property_staff, building=flow.world.building_b
    )
    assert grievance.channel == Channel.PATROL


def test_open311_files_with_an_address_only(flow: Any) -> None:
    grievance = flow.file(
        channel=Channel.OPEN311,
        submitted_by=None,
        address="青松路100号门口",
        caller_phone="13900001234",
        source_ref="open311:7",
    )
    assert grievance.building is None and grievance.address == "青松路100号门口"


def test_a_grievance_needs_some_place(flow: Any) -> None:
    with pytest.raises(ValidationError) as caught:
        flow.file(channel=Channel.GRID_WORKER, submitted_by=_grid_worker(flow))
    assert caught.value.code == "location_required"


def _grid_worker(flow: Any) -> Any:
    user = UserFactory()
    MembershipFactory(user=user, role=Membership.Role.GRID_WORKER, grid=flow.world.grid_a)
    return user


def test_a_place_in_another_community_is_refused(flow: Any) -> None:
    with pytest.raises(ValidationError) as caught:
        flow.file(
            channel=Channel.HOTLINE,
            submitted_by=flow.staff,
            caller_phone="13900001234",
            building=flow.world.other_building,
        )
    assert caught.value.code == "location_community"


def test_address_parts_that_disagree_are_refused(flow: Any) -> None:
    with pytest.raises(ValidationError) as caught:
        flow.file(
            channel=Channel.GRID_WORKER,
            submitted_by=_grid_worker(flow),
            building=flow.world.building_a,
            unit=flow.world.household_b.unit,
        )
    assert caught.value.code == "location_mismatch"


def test_a_reporter_from_another_community_is_refused(flow: Any) -> None:
    with pytest.raises(ValidationError):
        flow.file(
            channel=Channel.HOTLINE,
            submitted_by=flow.staff,
            caller_phone="13900001234",
            reporter=flow.world.other_resident,
        )


@pytest.mark.parametrize(
    ("latitude", "longitude"), [("91", "121"), ("31", "181"), ("abc", "121"), ("31", None)]
)
def test_nonsense_positions_are_refused(flow: Any, latitude: Any, longitude: Any) -> None:
    with pytest.raises(ValidationError):
        flow.file(latitude=latitude, longitude=longitude)


def test_an_inactive_or_parent_category_is_refused(flow: Any) -> None:
    with pytest.raises(ValidationError) as caught:
        flow.file(category=flow.categories.repair)
    assert caught.value.code == "category_parent"
    retired = CategoryFactory(is_active=False)
    with pytest.raises(ValidationError) as caught:
        flow.file(category=retired)
    assert caught.value.code == "category"


def test_required_extra_questions_must_be_answered_from_the_list(flow: Any) -> None:
    leak = flow.categories.leak
    with pytest.raises(ValidationError):
        flow.file(category=leak)
    with pytest.raises(ValidationError):
        flow.file(category=leak, attributes={"where": "roof"})
    with pytest.raises(ValidationError):
        flow.file(category=leak, attributes={"where": "ceiling", "colour": "red"})
    grievance = flow.file(category=leak, attributes={"where": "ceiling"})
    assert grievance.attributes == {"where": "ceiling"}
    assert grievance.tier == "repair_minor"


def test_number_and_multi_answers_are_checked() -> None:
    category = CategoryFactory.build(
        attributes=[
            {"code": "floors", "datatype": "number", "required": False},
            {
                "code": "rooms",
                "datatype": "multivaluelist",
                "values": [{"key": "k", "name": "厨房"}, {"key": "b", "name": "卫生间"}],
            },
            {"code": "note", "datatype": "text", "variable": False},
        ]
    )
    clean = services.category_attributes_clean
    assert clean(category, {"floors": "3", "rooms": ["b", "k", "b"]}) == {
        "floors": "3",
        "rooms": ["b", "k"],
    }
    with pytest.raises(ValidationError):
        clean(category, {"floors": "three"})
    with pytest.raises(ValidationError):
        clean(category, {"rooms": ["attic"]})


def test_a_private_category_is_never_public(flow: Any) -> None:
    grievance = flow.file(category=flow.categories.dispute, title="楼上噪音")
    assert not grievance.is_public


def test_an_empty_title_is_refused(flow: Any) -> None:
    with pytest.raises(ValidationError):
        flow.file(title="   ")


def test_filing_starts_no_clock_before_acceptance_with_the_1715_policy(flow: Any) -> None:
    grievance = flow.file()
    assert not SlaClock.objects.filter(grievance=grievance).exists()


def test_a_bad_photo_files_nothing_and_stores_nothing(flow: Any, _private_storage: Any) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    fake = SimpleUploadedFile("x.jpg", b"<html>not a photo</html>", content_type="image/jpeg")
    with pytest.raises(ValidationError):
        flow.file(photos=[photo_upload(), fake])
    assert not Grievance.objects.exists()
    folder = _private_storage / "grievances"
    assert not folder.exists() or not any(folder.iterdir())


# --- duplicates and merging ------------------------------------------------------------------


def test_open_grievances_of_the_category_at_the_building_are_possible_duplicates(
    flow: Any,
) -> None:
    first = flow.file()
    flow.file(category=flow.categories.dispute)  # another category
    found = selectors.grievance_possible_duplicates(
        user=flow.staff,
        category=flow.categories.lamp,
        building=flow.world.building_a,
        now=flow.tick(),
    )
    assert list(found) == [first]
    later = selectors.grievance_possible_duplicates(
        user=flow.staff,
        category=flow.categories.lamp,
        building=flow.world.building_a,
        now=flow.now + dt.timedelta(days=8),
    )
    assert list(later) == []


def test_duplicates_are_scoped(flow: Any) -> None:
    flow.file()
    world = flow.world
    neighbour = UserFactory()
    world.resident_b.user = neighbour
    world.resident_b.save(update_fields=["user"])
    found = selectors.grievance_possible_duplicates(
        user=neighbour, category=flow.categories.lamp, building=world.building_a, now=flow.tick()
    )
    assert list(found) == []


def test_closed_and_rejected_grievances_are_not_duplicates(flow: Any) -> None:
    first = flow.file()
    services.grievance_reject(grievance=first, actor=flow.staff, reason="重复", now=flow.tick())
    found = selectors.grievance_possible_duplicates(
        user=flow.staff, category=flow.categories.lamp, building=flow.world.building_a, now=flow.now
    )
    assert list(found) == []


def test_staff_merge_a_duplicate_and_both_timelines_say_so(flow: Any) -> None:
    original, _dispatch = flow.dispatched()
    duplicate, dup_dispatch = flow.dispatched()
    services.grievance_merge(grievance=duplicate, into=original, actor=flow.staff, now=flow.tick())
    duplicate.refresh_from_db()
    dup_dispatch.refresh_from_db()
    assert duplicate.status == Status.MERGED and duplicate.merged_into == original
    assert dup_dispatch.status == "withdrawn"
    assert TimelineEvent.objects.filter(grievance=original, kind="merged").exists()
    assert TimelineEvent.objects.filter(grievance=duplicate, kind="merged").exists()
    original.refresh_from_db()
    assert original.status == Status.DISPATCHED


def test_merging_cancels_the_duplicates_clocks(flow: Any) -> None:
    original = flow.file()
    duplicate, _dispatch = flow.taken()
    assert SlaClock.objects.filter(grievance=duplicate, state="running").exists()
    services.grievance_merge(grievance=duplicate, into=original, actor=flow.staff, now=flow.tick())
    states = set(SlaClock.objects.filter(grievance=duplicate).values_list("state", flat=True))
    assert states == {"cancelled"}


def test_merge_rules(flow: Any, grid_worker: Any) -> None:
    first, second = flow.file(), flow.file()
    with pytest.raises(ValidationError):
        services.grievance_merge(grievance=first, into=first, actor=flow.staff, now=flow.tick())
    with pytest.raises(PermissionDenied):
        services.grievance_merge(grievance=first, into=second, actor=grid_worker, now=flow.tick())
    services.grievance_reject(grievance=second, actor=flow.staff, reason="无效", now=flow.tick())
    with pytest.raises(ValidationError) as caught:
        services.grievance_merge(grievance=first, into=second, actor=flow.staff, now=flow.tick())
    assert caught.value.code == "merge_target_closed"
    first.refresh_from_db()
    assert first.status == Status.SUBMITTED


def test_office_staff_copying_a_slip_are_not_its_reporter(flow: Any) -> None:
    from community.tests.factories import ResidentFactory

    ResidentFactory(household=flow.world.household_b, user=flow.staff)  # lives here too
    grievance = flow.file(
        channel=Channel.SUGGESTION_BOX,
        category=flow.categories.suggestion,
        submitted_by=flow.staff,
    )
    assert grievance.reporter is None and grievance.household is None


def test_a_resident_posting_a_signed_slip_is_its_reporter(flow: Any) -> None:
    grievance = flow.file(channel=Channel.SUGGESTION_BOX, category=flow.categories.suggestion)
    assert grievance.reporter == flow.world.resident_a
    assert grievance.household == flow.world.household_a
