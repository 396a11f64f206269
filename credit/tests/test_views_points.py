"""My points (resident phone pages) and the points workbench (office)."""

from __future__ import annotations

import datetime as dt
from io import BytesIO
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from community.models import Membership
from community.tests.factories import MembershipFactory, UserFactory
from credit.models import Appeal, PointsAccount, PointsRequest, Redemption, ScoringRule
from credit.services.ledger import points_award
from credit.services.requests import points_request_approve, points_request_create
from credit.services.supermarket import redemption_create, redemption_fulfil
from credit.tests.factories import ScoringRuleFactory
from credit.tests.test_supermarket import fund, make_item
from credit.tests.test_views_shop import open_always

pytestmark = pytest.mark.django_db

Status = PointsRequest.Status


@pytest.fixture
def checker(world: Any) -> Any:
    user = UserFactory(name="陈主任")
    MembershipFactory(user=user, role=Membership.Role.COMMUNITY_ADMIN, community=world.home)
    return user


def _rule(world: Any, **kwargs: Any) -> ScoringRule:
    values: dict[str, Any] = {"street": world.street, "unit": "event", "points": 5}
    rule: ScoringRule = ScoringRuleFactory.create(**{**values, **kwargs})
    return rule


def _misconduct(world: Any) -> ScoringRule:
    return _rule(world, name="楼道堆物", code="clutter", points=-5, category="misconduct")


def _notified(world: Any, staff: Any, checker: Any, resident: Any = None) -> PointsRequest:
    request = points_request_create(
        actor=staff,
        resident=world.resident_a,
        rule=_misconduct(world),
        quantity=1,
        reason="楼道堆放纸箱",
        now=timezone.now(),
    )
    return points_request_approve(request=request, actor=checker, now=timezone.now())


PAGES = [
    ("get", "credit:points-home", False),
    ("post", "credit:points-appeal", True),
    ("get", "credit:points-staff", False),
    ("get", "credit:points-staff-residents", False),
    ("post", "credit:points-staff-request-create", False),
    ("post", "credit:points-staff-request-approve", True),
    ("post", "credit:points-staff-request-reject", True),
    ("post", "credit:points-staff-appeal-decide", True),
    ("get", "credit:points-staff-export", False),
    ("get", "credit:points-staff-redemptions-export", False),
]


def test_outsider_is_denied_every_points_page(
    client: Any, world: Any, outsider: Any, staff: Any, checker: Any, resident: Any
) -> None:
    request = _notified(world, staff, checker)
    client.force_login(outsider)
    for method, name, with_pk in PAGES:
        url = reverse(name, args=[request.pk]) if with_pk else reverse(name)
        response = getattr(client, method)(url, {"text": "x", "note": "x", "reasons": "x"})
        assert response.status_code == 404, name


def test_anonymous_is_sent_to_log_in(client: Any, world: Any) -> None:
    response = client.get(reverse("credit:points-home"))
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_my_points_shows_balance_history_rule_names_and_the_standard_link(
    client: Any, world: Any, resident: Any
) -> None:
    rule = _rule(world, name="志愿服务时长", code="volunteer-hour", points=12)
    points_award(resident=world.resident_a, rule=rule, key="v1", now=timezone.now())
    points_award(
        resident=world.resident_b,
        rule=_rule(world, name="邻居的奖励", code="nb"),
        key="b1",
        now=timezone.now(),
    )
    client.force_login(resident)
    response = client.get(reverse("credit:points-home"))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="balance">12<' in html
    assert "志愿服务时长" in html
    assert "+12" in html
    assert "/points/standard/#rule-volunteer-hour" in html
    assert 'href="/points/standard/"' in html
    assert "邻居的奖励" not in html


def test_my_points_page_query_count_is_pinned(
    client: Any,
    world: Any,
    resident: Any,
    staff: Any,
    checker: Any,
    django_assert_max_num_queries: Any,
) -> None:
    rule = _rule(world, points=1)
    for i in range(40):
        points_award(resident=world.resident_a, rule=rule, key=f"k{i}", now=timezone.now())
    _notified(world, staff, checker)
    client.force_login(resident)
    # Two more than the page itself needs: the role menu reads the user's scope, and the
    # top bar counts the unread messages.
    with django_assert_max_num_queries(9):
        response = client.get(reverse("credit:points-home"))
    assert response.status_code == 200
    assert "?before=" in response.content.decode()


def test_resident_appeals_a_notified_deduction_from_the_page(
    client: Any, world: Any, resident: Any, staff: Any, checker: Any
) -> None:
    request = _notified(world, staff, checker)
    client.force_login(resident)
    page = client.get(reverse("credit:points-home")).content.decode()
    assert "楼道堆放纸箱" in page
    assert reverse("credit:points-appeal", args=[request.pk]) in page
    response = client.post(
        reverse("credit:points-appeal", args=[request.pk]), {"text": "纸箱是快递员放的"}
    )
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == Status.APPEALED
    assert Appeal.objects.get(request=request).text == "纸箱是快递员放的"


def test_a_resident_cannot_appeal_a_neighbours_deduction(
    client: Any, world: Any, resident: Any, staff: Any, checker: Any
) -> None:
    request = points_request_create(
        actor=staff,
        resident=world.resident_b,
        rule=_misconduct(world),
        quantity=1,
        reason="r",
        now=timezone.now(),
    )
    points_request_approve(request=request, actor=checker, now=timezone.now())
    client.force_login(resident)
    response = client.post(reverse("credit:points-appeal", args=[request.pk]), {"text": "x"})
    assert response.status_code == 404


def test_resident_cannot_open_the_workbench(client: Any, world: Any, resident: Any) -> None:
    client.force_login(resident)
    assert client.get(reverse("credit:points-staff")).status_code == 404
    assert client.get(reverse("credit:points-staff-export")).status_code == 404
    assert client.get(reverse("credit:points-staff-redemptions-export")).status_code == 404


def test_staff_ask_and_another_person_approves_on_the_workbench(
    client: Any, world: Any, staff: Any, checker: Any
) -> None:
    rule = _rule(world, name="好人好事", code="good", points=20)
    client.force_login(staff)
    found = client.get(reverse("credit:points-staff-residents"), {"q": "张建"}).content.decode()
    assert "张建国" in found and "王芳" not in found
    response = client.post(
        reverse("credit:points-staff-request-create"),
        {"resident": world.resident_a.pk, "rule": rule.pk, "quantity": "1", "reason": "拾金不昧"},
    )
    assert response.status_code == 302
    request = PointsRequest.objects.get()
    page = client.get(reverse("credit:points-staff")).content.decode()
    assert "拾金不昧" in page and "需他人审批" in page
    # The maker's own approval is refused with a message; nothing is applied.
    client.post(reverse("credit:points-staff-request-approve", args=[request.pk]))
    request.refresh_from_db()
    assert request.status == Status.PENDING
    client.force_login(checker)
    client.post(reverse("credit:points-staff-request-approve", args=[request.pk]))
    request.refresh_from_db()
    assert request.status == Status.APPLIED
    assert PointsAccount.objects.get(resident=world.resident_a).balance == 20


def test_request_for_a_resident_out_of_scope_is_refused(
    client: Any, world: Any, staff: Any
) -> None:
    rule = _rule(world, code="good", points=20)
    client.force_login(staff)
    response = client.post(
        reverse("credit:points-staff-request-create"),
        {"resident": world.other_resident.pk, "rule": rule.pk, "quantity": "1", "reason": "r"},
    )
    assert response.status_code == 400
    assert not PointsRequest.objects.exists()


def test_staff_decide_an_appeal_with_reasons(
    client: Any, world: Any, resident: Any, staff: Any, checker: Any
) -> None:
    from credit.services.requests import appeal_submit

    request = _notified(world, staff, checker)
    appeal = appeal_submit(
        request=request, resident_user=resident, text="不是我", now=timezone.now()
    )
    client.force_login(checker)
    page = client.get(reverse("credit:points-staff")).content.decode()
    assert "不是我" in page
    client.post(
        reverse("credit:points-staff-appeal-decide", args=[appeal.pk]),
        {"decision": "cancel", "reasons": "监控显示为快递员"},
    )
    appeal.refresh_from_db()
    assert appeal.status == Appeal.Status.CANCELLED
    assert appeal.decision_reason == "监控显示为快递员"
    client.force_login(resident)
    assert "监控显示为快递员" in client.get(reverse("credit:points-home")).content.decode()


def test_workbench_query_count_is_pinned(
    client: Any,
    world: Any,
    staff: Any,
    checker: Any,
    desk: None,
    django_assert_max_num_queries: Any,
) -> None:
    rule = _rule(world, points=5)
    for _ in range(15):
        points_request_create(
            actor=checker,
            resident=world.resident_a,
            rule=rule,
            quantity=1,
            reason="r",
            now=timezone.now(),
        )
    for i in range(5):
        _reserve(world, world.resident_a, key=f"p{i}")
    client.force_login(staff)
    # 10 for the workbench itself, +2 for today's pickups: the user's desk communities
    # (membership) and the redemptions with their item and resident (one query, any rows);
    # +1 for the unread-messages badge of the top bar.
    with django_assert_max_num_queries(13):
        response = client.get(reverse("credit:points-staff"), {"q": "张"})
    assert response.status_code == 200
    assert response.content.decode().count('id="pickup-') == 5


def test_export_is_a_workbook_with_masked_phones(client: Any, world: Any, staff: Any) -> None:
    world.resident_a.phone = "13912345678"
    world.resident_a.save(update_fields=["phone"])
    points_award(resident=world.resident_a, rule=_rule(world), key="k", now=timezone.now())
    client.force_login(staff)
    response = client.get(reverse("credit:points-staff-export"))
    assert response.status_code == 200
    body = b"".join(response.streaming_content)
    values = [
        str(cell.value) for row in load_workbook(BytesIO(body)).active.iter_rows() for cell in row
    ]
    assert "139****5678" in values
    assert "13912345678" not in values
    assert "王芳" not in values  # the other community is not this office's


def test_notified_deductions_show_their_deadline_on_the_workbench(
    client: Any, world: Any, staff: Any, checker: Any
) -> None:
    request = _notified(world, staff, checker)
    client.force_login(staff)
    page = client.get(reverse("credit:points-staff")).content.decode()
    deadline = timezone.localtime(request.appeal_deadline)
    assert deadline.strftime("%Y-%m-%d") in page
    assert request.appeal_deadline is not None
    assert request.appeal_deadline - timezone.now() > dt.timedelta(days=6)


# --- the supermarket on the workbench: today's pickups, the redemptions export ---------


@pytest.fixture
def desk(world: Any) -> None:
    """Both communities' supermarkets always open; resident_a and other_resident funded."""
    for community in (world.home, world.other):
        open_always(community)
    fund(world, world.resident_a, 500)
    fund(world, world.other_resident, 500)


def _reserve(world: Any, resident: Any, *, key: str, name: str = "洗衣液") -> Redemption:
    """A reservation made now at the resident's community (needs the `desk` fixture)."""
    community = world.other if resident.pk == world.other_resident.pk else world.home
    return redemption_create(
        resident=resident, item=make_item(community, name=name), key=key, now=timezone.now()
    )


def _english(client: Any) -> None:
    client.cookies["django_language"] = "en"


def _sheet_rows(response: Any) -> list[list[Any]]:
    body = b"".join(response.streaming_content)
    return [[cell.value for cell in row] for row in load_workbook(BytesIO(body)).active.iter_rows()]


def test_workbench_shows_todays_pickups_of_my_community_only(
    client: Any, world: Any, staff: Any, desk: None
) -> None:
    waiting = _reserve(world, world.resident_a, key="w", name="洗衣液")
    taken = _reserve(world, world.resident_a, key="t", name="大米")
    redemption_fulfil(code=taken.pickup_code, clerk=staff, now=timezone.now())
    _reserve(world, world.other_resident, key="o", name="别处的酱油")
    client.force_login(staff)
    _english(client)
    page = client.get(reverse("credit:points-staff")).content.decode()
    assert "Today's pickups" in page
    assert f'id="pickup-{waiting.pk}"' in page and f'id="pickup-{taken.pk}"' in page
    assert "洗衣液" in page and "大米" in page and "张建国" in page
    assert "reserved, to pick up" in page and "picked up" in page
    deadline = timezone.localtime(waiting.expires_at).strftime("%Y-%m-%d %H:%M")
    assert deadline in page
    assert "别处的酱油" not in page and "王芳" not in page


def test_workbench_links_to_the_redemptions_export(client: Any, world: Any, staff: Any) -> None:
    client.force_login(staff)
    page = client.get(reverse("credit:points-staff")).content.decode()
    assert f'href="{reverse("credit:points-staff-redemptions-export")}"' in page


def test_redemptions_export_lists_this_months_redemptions_masked_and_formula_safe(
    client: Any, world: Any, staff: Any, desk: None
) -> None:
    world.resident_a.phone = "13912345678"
    world.resident_a.save(update_fields=["phone"])
    waiting = _reserve(world, world.resident_a, key="w", name='=HYPERLINK("http://x")')
    taken = _reserve(world, world.resident_a, key="t", name="大米")
    redemption_fulfil(code=taken.pickup_code, clerk=staff, now=timezone.now())
    _reserve(world, world.other_resident, key="o", name="别处的酱油")
    client.force_login(staff)
    _english(client)
    response = client.get(reverse("credit:points-staff-redemptions-export"))
    assert response.status_code == 200
    assert "redemptions-" in response["Content-Disposition"]
    body = b"".join(response.streaming_content)
    sheet = load_workbook(BytesIO(body)).active
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert rows[0] == [
        "Date",
        "Resident",
        "Building / room",
        "Phone (masked)",
        "Item",
        "Quantity",
        "Points",
        "Status",
        "Picked up at",
        "Handed over by",
    ]
    assert len(rows) == 3  # the other community's redemption is not this office's
    first, second = rows[1], rows[2]
    assert first[1] == "张建国" and first[3] == "139****5678"
    assert first[4] == '=HYPERLINK("http://x")'
    formula_cell = list(sheet.iter_rows())[1][4]
    assert formula_cell.data_type == "s" and formula_cell.quotePrefix
    assert first[5] == 1 and first[6] == waiting.points and first[7] == "reserved, to pick up"
    assert first[8] is None and first[9] in ("", None)
    assert isinstance(first[0], dt.datetime)
    assert second[4] == "大米" and second[7] == "picked up" and second[9] == "刘干事"
    assert isinstance(second[8], dt.datetime)
    values = [str(v) for row in rows for v in row]
    assert "13912345678" not in values and "王芳" not in values


def test_redemptions_export_keeps_to_the_date_range(
    client: Any, world: Any, staff: Any, desk: None
) -> None:
    _reserve(world, world.resident_a, key="w")
    today = timezone.localdate()
    client.force_login(staff)
    url = reverse("credit:points-staff-redemptions-export")
    earlier = {"start": "2020-01-01", "end": "2020-12-31"}
    assert len(_sheet_rows(client.get(url, earlier))) == 1  # the header only
    around = {"start": f"{today - dt.timedelta(days=1):%Y-%m-%d}", "end": f"{today:%Y-%m-%d}"}
    assert len(_sheet_rows(client.get(url, around))) == 2


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"start": "2026-13-01"}, "Give the start date as YYYY-MM-DD."),
        ({"end": "yesterday"}, "Give the end date as YYYY-MM-DD."),
        ({"start": "2026-03-02", "end": "2026-03-01"}, "The start date is after the end date."),
        ({"start": "2024-01-01", "end": "2026-01-01"}, "Export at most 366 days at a time."),
    ],
)
def test_redemptions_export_refuses_a_bad_range_with_a_clear_message(
    client: Any, world: Any, staff: Any, params: dict[str, str], message: str
) -> None:
    client.force_login(staff)
    _english(client)
    response = client.get(reverse("credit:points-staff-redemptions-export"), params)
    assert response.status_code == 400
    assert message in response.content.decode()


def test_redemptions_export_query_count_is_pinned(
    client: Any, world: Any, staff: Any, desk: None, django_assert_max_num_queries: Any
) -> None:
    for i in range(12):
        redemption = _reserve(world, world.resident_a, key=f"k{i}")
        if i % 2:
            redemption_fulfil(code=redemption.pickup_code, clerk=staff, now=timezone.now())
    client.force_login(staff)
    # Session, user, the user's scope, and the redemptions with everything a row shows.
    with django_assert_max_num_queries(4):
        response = client.get(reverse("credit:points-staff-redemptions-export"))
        rows = _sheet_rows(response)
    assert len(rows) == 13
