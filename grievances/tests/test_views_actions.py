"""The actions of the grievance page: POST /grievances/<pk>/<action>/.

Each action by the right persona changes the grievance and comes back to the page with a
message; by a wrong persona who can see the grievance it changes nothing and says why;
by someone who cannot see it, 404. Nothing answers 500.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from community.models import Organization
from community.tests.factories import (
    HouseholdFactory,
    MembershipFactory,
    OrganizationFactory,
    UnitFactory,
    UserFactory,
)
from grievances import services
from grievances.models import (
    CostShareLine,
    DeadlineExtension,
    Dispatch,
    Grievance,
    Rating,
    SlaClock,
    Tier,
)
from grievances.tests.conftest import Flow
from grievances.tests.factories import photo_upload

pytestmark = pytest.mark.django_db
Status = Grievance.Status


@pytest.fixture
def live(flow: Flow) -> Flow:
    flow.now = timezone.now() - dt.timedelta(hours=2)
    return flow


def post(client: Client, user: Any, grievance: Grievance, action: str, **data: Any) -> Any:
    client.force_login(user)
    client.cookies["django_language"] = "en"
    client.cookies.pop("messages", None)  # only this request's messages: no page read them
    return client.post(reverse("grievances:action", args=[grievance.pk, action]), data)


def said(response: Any) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def status_of(grievance: Grievance) -> str:
    grievance.refresh_from_db()
    return grievance.status


def back_to_page(response: Any, grievance: Grievance) -> bool:
    return response.status_code == 302 and response["Location"] == reverse(
        "grievances:detail", args=[grievance.pk]
    )


# --- the office ------------------------------------------------------------------------------


def test_staff_accepts_and_resident_cannot(
    client: Client, live: Flow, staff: Any, resident: Any
) -> None:
    grievance = live.file()
    refused = post(client, resident, grievance, "accept")
    assert back_to_page(refused, grievance)
    assert said(refused) == ["Only the community office may do this."]
    assert status_of(grievance) == Status.SUBMITTED
    done = post(client, staff, grievance, "accept", tier=Tier.COMPLEX)
    assert back_to_page(done, grievance)
    assert said(done) == ["Accepted."]
    assert status_of(grievance) == Status.ACCEPTED
    assert grievance.tier == Tier.COMPLEX


def test_a_move_not_allowed_now_is_a_message_not_an_error(
    client: Client, live: Flow, staff: Any
) -> None:
    grievance = live.accepted()
    response = post(client, staff, grievance, "accept")
    assert response.status_code == 302
    assert said(response) == ["This grievance is “accepted” and cannot become “accepted”."]


def test_outsider_gets_404_for_every_action(
    client: Client, live: Flow, outsider: Any, staff: Any
) -> None:
    grievance, dispatch = live.dispatched()
    for action in ("accept", "reject", "dispatch-accept", "check-in", "rate", "progress"):
        response = post(client, outsider, grievance, action, dispatch=dispatch.pk, reason="x")
        assert response.status_code == 404, action
    assert status_of(grievance) == Status.DISPATCHED


def test_unknown_action_and_get_are_refused(client: Client, live: Flow, staff: Any) -> None:
    grievance = live.file()
    assert post(client, staff, grievance, "explode").status_code == 404
    url = reverse("grievances:action", args=[grievance.pk, "accept"])
    assert client.get(url).status_code == 405


def test_reject_needs_a_reason(client: Client, live: Flow, staff: Any, resident: Any) -> None:
    grievance = live.file()
    assert said(post(client, staff, grievance, "reject", reason=" ")) == [
        "Say why the grievance is rejected."
    ]
    assert status_of(grievance) == Status.SUBMITTED
    post(client, staff, grievance, "reject", reason="不属于社区职责")
    assert status_of(grievance) == Status.REJECTED
    body = client.get(reverse("grievances:detail", args=[grievance.pk])).content.decode()
    assert "不属于社区职责" in body


def test_staff_dispatches_to_the_property_company(
    client: Client, live: Flow, staff: Any, world: Any, property_staff: Any
) -> None:
    grievance = live.file()
    # Not dispatched yet: the property company does not see it at all.
    assert post(client, property_staff, grievance, "dispatch-accept", dispatch=1).status_code == 404
    response = post(
        client, staff, grievance, "dispatch", to=f"org:{world.property_company.pk}", note="尽快"
    )
    assert said(response) == [f"Dispatched to {world.property_company.name}."]
    assert status_of(grievance) == Status.DISPATCHED
    dispatch = Dispatch.objects.get(grievance=grievance)
    assert dispatch.organization == world.property_company
    assert dispatch.note == "尽快"


def test_dispatch_to_a_person(client: Client, live: Flow, staff: Any, grid_worker: Any) -> None:
    grievance = live.accepted()
    post(client, staff, grievance, "dispatch", to=f"user:{grid_worker.pk}")
    assert Dispatch.objects.get(grievance=grievance).assignee == grid_worker


def test_dispatch_only_to_a_receiver_the_page_offered(
    client: Client, live: Flow, staff: Any
) -> None:
    grievance = live.accepted()
    merchant = OrganizationFactory(kind=Organization.Kind.MERCHANT)
    elsewhere = OrganizationFactory(kind=Organization.Kind.PROPERTY_COMPANY)
    stranger = UserFactory()
    for to in (f"org:{merchant.pk}", f"org:{elsewhere.pk}", f"user:{stranger.pk}", "", "org:x"):
        response = post(client, staff, grievance, "dispatch", to=to)
        assert said(response) == ["Choose who receives the work order from the list."], to
    assert status_of(grievance) == Status.ACCEPTED


def test_staff_withdraws_a_dispatch(client: Client, live: Flow, staff: Any) -> None:
    grievance, dispatch = live.dispatched()
    response = post(
        client, staff, grievance, "dispatch-withdraw", dispatch=dispatch.pk, reason="派错了"
    )
    assert said(response) == ["The work order was withdrawn."]
    assert status_of(grievance) == Status.ACCEPTED
    dispatch.refresh_from_db()
    assert dispatch.status == Dispatch.Status.WITHDRAWN


def test_dispatch_of_another_grievance_is_404(client: Client, live: Flow, staff: Any) -> None:
    grievance, _dispatch = live.dispatched()
    _other, other_dispatch = live.dispatched()
    response = post(
        client, staff, grievance, "dispatch-withdraw", dispatch=other_dispatch.pk, reason="x"
    )
    assert response.status_code == 404


def test_staff_merges_a_duplicate(client: Client, live: Flow, staff: Any, resident: Any) -> None:
    first = live.file()
    duplicate = live.file()
    assert said(post(client, staff, duplicate, "merge", into="#999999")) == [
        "There is no grievance #999999 you can see."
    ]
    assert said(post(client, resident, duplicate, "merge", into=str(first.pk))) == [
        "Only the community office may merge grievances."
    ]
    response = post(client, staff, duplicate, "merge", into=f"#{first.pk}")
    assert said(response) == [f"Merged into #{first.pk}."]
    assert status_of(duplicate) == Status.MERGED
    assert duplicate.merged_into == first


def test_steward_by_name(client: Client, live: Flow, staff: Any, world: Any) -> None:
    grievance = live.accepted()
    assert said(post(client, staff, grievance, "steward", steward="无此人")) == [
        "No resident of this community is called or has the phone “无此人”."
    ]
    response = post(client, staff, grievance, "steward", steward="李秀英")
    assert said(response) == ["Steward: 李秀英."]
    grievance.refresh_from_db()
    assert grievance.steward == world.resident_b
    post(client, staff, grievance, "steward", steward="")
    grievance.refresh_from_db()
    assert grievance.steward is None


def test_cost_share_and_payments(
    client: Client, live: Flow, staff: Any, world: Any, property_staff: Any
) -> None:
    grievance = live.accepted(building=world.building_a, household=None)
    second = HouseholdFactory(unit=UnitFactory(building=world.building_a))
    refused = post(
        client,
        staff,
        grievance,
        "cost-share",
        description="化粪池清掏",
        total="300",
        **{f"share-{world.household_a.pk}": "100", f"share-{second.pk}": "100"},
    )
    assert said(refused) == ["The shares add up to 200.00, not to the total 300.00."]
    response = post(
        client,
        staff,
        grievance,
        "cost-share",
        description="化粪池清掏",
        total="300",
        **{f"share-{world.household_a.pk}": "150", f"share-{second.pk}": "150.00"},
    )
    assert said(response) == ["The cost is shared among 2 households."]
    lines = list(CostShareLine.objects.filter(cost_share__grievance=grievance).order_by("pk"))
    assert len(lines) == 2
    # A household of another building is not on the list the page offers.
    other = HouseholdFactory(unit=UnitFactory(building=world.building_b))
    assert said(
        post(client, staff, live.accepted(), "cost-share", total="1", **{f"share-{other.pk}": "1"})
    ) == ["Choose households from the list."]
    for line in lines:
        post(client, staff, grievance, "cost-share-pay", line=line.pk)
    grievance.cost_share.refresh_from_db()
    assert grievance.cost_share.settled_at is not None
    assert said(post(client, staff, grievance, "cost-share-pay", line=lines[0].pk)) == [
        "This share is paid already."
    ]


# --- the receiver -----------------------------------------------------------------------------


def test_receiver_takes_the_work_order_with_a_tier(
    client: Client, live: Flow, property_staff: Any, resident: Any
) -> None:
    grievance, dispatch = live.dispatched()
    refused = post(client, resident, grievance, "dispatch-accept", dispatch=dispatch.pk)
    assert said(refused) == ["This work order was not sent to you."]
    response = post(
        client,
        property_staff,
        grievance,
        "dispatch-accept",
        dispatch=dispatch.pk,
        tier=Tier.REPAIR_MINOR,
    )
    assert said(response) == ["You took the work order: the clock runs."]
    grievance.refresh_from_db()
    assert grievance.handler_user == property_staff
    assert grievance.tier == Tier.REPAIR_MINOR
    assert set(SlaClock.objects.filter(grievance=grievance).values_list("kind", flat=True)) == {
        "arrive"
    }
    again = post(client, property_staff, grievance, "dispatch-accept", dispatch=dispatch.pk)
    assert said(again) == ["This work order has already been answered."]


def test_staff_of_another_company_gets_404(client: Client, live: Flow) -> None:
    grievance, dispatch = live.dispatched()
    stranger = UserFactory()
    MembershipFactory(
        user=stranger,
        role="property_staff",
        organization=OrganizationFactory(kind=Organization.Kind.PROPERTY_COMPANY),
    )
    response = post(client, stranger, grievance, "dispatch-accept", dispatch=dispatch.pk)
    assert response.status_code == 404


def test_receiver_declines_with_a_reason(client: Client, live: Flow, property_staff: Any) -> None:
    grievance, dispatch = live.dispatched()
    assert said(post(client, property_staff, grievance, "dispatch-decline", dispatch=dispatch.pk))
    assert status_of(grievance) == Status.DISPATCHED
    post(
        client,
        property_staff,
        grievance,
        "dispatch-decline",
        dispatch=dispatch.pk,
        reason="非物业范围",
    )
    assert status_of(grievance) == Status.ACCEPTED


def test_receiver_transfers_to_a_partner_unit(
    client: Client, live: Flow, property_staff: Any, world: Any
) -> None:
    partner = OrganizationFactory(kind=Organization.Kind.PARTNER_UNIT, community=world.home)
    grievance, dispatch = live.dispatched()
    response = post(
        client,
        property_staff,
        grievance,
        "dispatch-transfer",
        dispatch=dispatch.pk,
        to=f"org:{partner.pk}",
        reason="属于供电",
    )
    assert said(response) == [f"Transferred to {partner.name}."]
    live_dispatch = Dispatch.objects.get(grievance=grievance, status=Dispatch.Status.PENDING)
    assert live_dispatch.organization == partner


# --- the handler ------------------------------------------------------------------------------


def test_check_in_with_position_and_photo(
    client: Client, live: Flow, property_staff: Any, resident: Any
) -> None:
    grievance, _dispatch = live.taken()
    no_position = post(client, property_staff, grievance, "check-in")
    assert said(no_position) == ["Check in with your position (allow the location on your phone)."]
    assert said(
        post(client, resident, grievance, "check-in", latitude="31.2", longitude="121.4")
    ) == ["You are not handling this grievance."]
    response = post(
        client,
        property_staff,
        grievance,
        "check-in",
        latitude="31.230416",
        longitude="121.473701",
        photo=photo_upload("arrive.jpg"),
    )
    assert said(response) == ["Checked in on site."]
    assert status_of(grievance) == Status.ON_SITE
    assert grievance.attachments.get().kind == "check_in"
    arrive = SlaClock.objects.get(grievance=grievance, kind="arrive")
    assert arrive.state == SlaClock.State.STOPPED


def test_progress_public_and_internal(
    client: Client, live: Flow, property_staff: Any, resident: Any, staff: Any
) -> None:
    grievance = live.on_site()
    post(client, property_staff, grievance, "progress", note="在换管子", visibility="public")
    post(client, property_staff, grievance, "progress", note="管子型号不对", visibility="internal")
    post(client, staff, grievance, "progress", note="已联系业主", visibility="internal")
    assert said(post(client, resident, grievance, "progress", note="我也说一句")) == [
        "You are not handling this grievance."
    ]
    client.force_login(resident)
    mine = client.get(reverse("grievances:detail", args=[grievance.pk])).content.decode()
    assert "在换管子" in mine
    assert "管子型号不对" not in mine and "已联系业主" not in mine and "我也说一句" not in mine


def test_plan_with_a_date(client: Client, live: Flow, property_staff: Any) -> None:
    grievance, dispatch = live.dispatched()
    services.dispatch_accept(
        dispatch=dispatch, actor=property_staff, now=live.tick(), tier=Tier.COMPLEX
    )
    assert said(post(client, property_staff, grievance, "plan", plan="换主管", plan_due="x")) == [
        "The plan needs a completion date from today on."
    ]
    due = timezone.localdate() + dt.timedelta(days=3)
    response = post(
        client, property_staff, grievance, "plan", plan="更换主水管", plan_due=due.isoformat()
    )
    assert said(response) == ["Plan submitted."]
    grievance.refresh_from_db()
    assert grievance.plan == "更换主水管" and grievance.plan_due == due
    plan_clock = SlaClock.objects.get(grievance=grievance, kind="plan")
    assert plan_clock.state == SlaClock.State.STOPPED


def test_wait_and_resume(client: Client, live: Flow, property_staff: Any) -> None:
    grievance = live.on_site()
    assert said(post(client, property_staff, grievance, "wait", reason="")) == [
        "Say what the work is waiting for."
    ]
    post(client, property_staff, grievance, "wait", reason="业主不在家")
    assert status_of(grievance) == Status.WAITING
    assert SlaClock.objects.get(grievance=grievance, kind="resolve").state == "paused"
    post(client, property_staff, grievance, "resume")
    assert status_of(grievance) == Status.ON_SITE
    assert SlaClock.objects.get(grievance=grievance, kind="resolve").state == "running"


def test_resolve_needs_an_after_photo(
    client: Client, live: Flow, property_staff: Any, resident: Any
) -> None:
    grievance = live.on_site()
    assert said(post(client, property_staff, grievance, "resolve", note="修好了")) == [
        "Add at least one photo of the result."
    ]
    assert said(
        post(client, resident, grievance, "resolve", note="修好了", photos=photo_upload())
    ) == ["You are not handling this grievance."]
    response = post(
        client,
        property_staff,
        grievance,
        "resolve",
        note="修好了",
        photos=[photo_upload("a.jpg"), photo_upload("b.png", fmt="PNG")],
    )
    assert said(response) == ["Resolved. The reporter is asked to confirm."]
    assert status_of(grievance) == Status.RESOLVED
    assert grievance.attachments.filter(kind="after").count() == 2


def test_a_non_image_is_refused_with_a_message(
    client: Client, live: Flow, property_staff: Any
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    grievance = live.on_site()
    fake = SimpleUploadedFile("x.jpg", b"<html><script>alert(1)</script>", "image/jpeg")
    response = post(client, property_staff, grievance, "resolve", note="修好了", photos=fake)
    assert response.status_code == 302
    assert said(response)
    assert status_of(grievance) == Status.ON_SITE


def test_extension_requested_by_the_handler_decided_by_staff(
    client: Client, live: Flow, property_staff: Any, staff: Any
) -> None:
    grievance = live.on_site()
    clock = SlaClock.objects.get(grievance=grievance, kind="resolve")
    response = post(
        client,
        property_staff,
        grievance,
        "extension-request",
        clock=clock.pk,
        amount="2",
        unit="hours",
        reason="需要等配件",
    )
    assert said(response) == ["More time requested: the community office decides."]
    extension = DeadlineExtension.objects.get(clock=clock)
    assert extension.extra_minutes == 120
    # The handler cannot decide their own request.
    refused = post(
        client,
        property_staff,
        grievance,
        "extension-decide",
        extension=extension.pk,
        decision="approve",
    )
    assert said(refused) == ["Only the community office may do this."]
    old_due = clock.due_at
    post(client, staff, grievance, "extension-decide", extension=extension.pk, decision="approve")
    clock.refresh_from_db()
    extension.refresh_from_db()
    assert extension.status == DeadlineExtension.Status.APPROVED
    assert clock.due_at == old_due + dt.timedelta(hours=2)


def test_extension_of_another_grievance_clock_is_404(
    client: Client, live: Flow, property_staff: Any
) -> None:
    grievance = live.on_site()
    other = live.on_site()
    clock = SlaClock.objects.get(grievance=other, kind="resolve")
    response = post(
        client,
        property_staff,
        grievance,
        "extension-request",
        clock=clock.pk,
        amount="1",
        unit="hours",
        reason="x",
    )
    assert response.status_code == 404


# --- the reporter -----------------------------------------------------------------------------


def test_resident_confirms_solved_and_rates(
    client: Client, live: Flow, resident: Any, property_staff: Any
) -> None:
    grievance = live.resolved()
    assert said(post(client, property_staff, grievance, "rate", solved="1", stars="5")) == [
        "Only the reporter or their household can confirm this."
    ]
    assert said(post(client, resident, grievance, "rate", solved="1")) == ["Give 1 to 5 stars."]
    response = post(client, resident, grievance, "rate", solved="1", stars="5", comment="很快")
    assert said(response) == ["Thank you: the grievance is closed."]
    assert status_of(grievance) == Status.CLOSED
    rating = Rating.objects.get(grievance=grievance)
    assert (rating.solved, rating.stars, rating.comment) == (True, 5, "很快")
    again = post(client, resident, grievance, "rate", solved="1", stars="4")
    assert said(again) == ["This grievance is “closed” and cannot become “closed”."]


def test_not_solved_reopens_and_goes_back_to_the_handler(
    client: Client, live: Flow, resident: Any, world: Any
) -> None:
    grievance = live.resolved()
    response = post(client, resident, grievance, "rate", solved="0", stars="1", comment="还在漏")
    assert said(response) == ["Sorry it is not solved: the grievance is reopened and sent back."]
    assert status_of(grievance) == Status.DISPATCHED
    assert grievance.reopen_count == 1
    redispatch = Dispatch.objects.get(grievance=grievance, status=Dispatch.Status.PENDING)
    assert redispatch.organization == world.property_company


def test_a_household_member_rates_but_another_household_gets_404(
    client: Client, live: Flow, world: Any
) -> None:
    from community.tests.factories import ResidentFactory

    grievance = live.resolved()
    spouse = UserFactory(name="张太太")
    ResidentFactory(household=world.household_a, user=spouse, name="张太太")
    neighbour = UserFactory(name="李秀英")
    world.resident_b.user = neighbour
    world.resident_b.save(update_fields=["user"])
    assert post(client, neighbour, grievance, "rate", solved="1", stars="5").status_code == 404
    post(client, spouse, grievance, "rate", solved="1", stars="4")
    assert status_of(grievance) == Status.CLOSED


def test_next_goes_back_to_the_queue_but_never_off_site(
    client: Client, live: Flow, property_staff: Any
) -> None:
    grievance, dispatch = live.dispatched()
    queue = reverse("grievances:queue") + "?page=1"
    response = post(
        client, property_staff, grievance, "dispatch-accept", dispatch=dispatch.pk, next=queue
    )
    assert response["Location"] == queue
    other, other_dispatch = live.dispatched()
    response = post(
        client,
        property_staff,
        other,
        "dispatch-accept",
        dispatch=other_dispatch.pk,
        next="https://evil.example/",
    )
    assert back_to_page(response, other)
