"""/api/v1/credit/: my balance and history, manual requests asked and decided."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from community.models import Membership
from community.tests.factories import MembershipFactory, UserFactory
from credit.models import Appeal, PointsAccount, PointsRequest, ScoringRule
from credit.services.ledger import points_award, points_reverse
from credit.services.requests import (
    appeal_submit,
    points_request_approve,
    points_request_create,
)
from credit.tests.factories import ScoringRuleFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def api() -> APIClient:
    return APIClient()


@pytest.fixture
def checker(world: Any) -> Any:
    user = UserFactory(name="陈主任")
    MembershipFactory(user=user, role=Membership.Role.COMMUNITY_ADMIN, community=world.home)
    return user


def _rule(world: Any, **kwargs: Any) -> ScoringRule:
    values: dict[str, Any] = {"street": world.street, "unit": "event", "points": 5}
    rule: ScoringRule = ScoringRuleFactory.create(**{**values, **kwargs})
    return rule


def _request(world: Any, actor: Any) -> PointsRequest:
    return points_request_create(
        actor=actor,
        resident=world.resident_a,
        rule=_rule(world, code="good"),
        quantity=1,
        reason="好人好事",
        now=timezone.now(),
    )


def test_outsider_is_denied_every_points_api(
    api: APIClient, world: Any, outsider: Any, staff: Any
) -> None:
    request = _request(world, staff)
    rule = ScoringRule.objects.get(code="good")
    api.force_authenticate(outsider)
    assert api.get(reverse("credit-api:me-balance")).status_code == 404
    assert api.get(reverse("credit-api:me-history")).status_code == 404
    response = api.post(
        reverse("credit-api:request-create"),
        {"resident": world.resident_a.pk, "rule": rule.pk, "reason": "r"},
        format="json",
    )
    assert response.status_code == 404
    for name in ("credit-api:request-approve", "credit-api:request-reject"):
        response = api.post(reverse(name, args=[request.pk]), {"note": "x"}, format="json")
        assert response.status_code == 404
    response = api.post(
        reverse("credit-api:me-deduction-appeal", args=[request.pk]), {"text": "x"}, format="json"
    )
    assert response.status_code == 404


def test_anonymous_gets_401_or_403(api: APIClient, world: Any) -> None:
    assert api.get(reverse("credit-api:me-balance")).status_code in (401, 403)


def test_my_balance_and_history_are_my_own(api: APIClient, world: Any, resident: Any) -> None:
    rule = _rule(world, name="志愿服务", code="volunteer", points=10)
    entry = points_award(resident=world.resident_a, rule=rule, key="a", now=timezone.now())
    points_reverse(entry=entry, now=timezone.now(), reason="登记错误")
    points_award(resident=world.resident_a, rule=rule, key="b", now=timezone.now())
    points_award(resident=world.resident_b, rule=rule, key="c", now=timezone.now())
    api.force_authenticate(resident)
    assert api.get(reverse("credit-api:me-balance")).json()["balance"] == 10
    body = api.get(reverse("credit-api:me-history")).json()
    rows = body["results"]
    assert [row["delta"] for row in rows] == [10, -10, 10]
    assert rows[0]["what"] == "志愿服务"
    assert rows[0]["rule_code"] == "volunteer"
    assert rows[1]["reverses"] == entry.pk
    assert rows[2]["reversed_by"] == rows[1]["id"]
    assert len(rows) == 3  # resident_b's award is not here


def test_history_is_cursor_paged_with_a_pinned_query_count(
    api: APIClient, world: Any, resident: Any, django_assert_max_num_queries: Any
) -> None:
    rule = _rule(world, points=1)
    for i in range(25):
        points_award(resident=world.resident_a, rule=rule, key=f"k{i}", now=timezone.now())
    api.force_authenticate(resident)
    with django_assert_max_num_queries(3):
        first = api.get(reverse("credit-api:me-history"), {"page_size": 20}).json()
    assert len(first["results"]) == 20 and first["next"]
    second = api.get(first["next"]).json()
    assert len(second["results"]) == 5 and second["next"] is None
    ids = [r["id"] for r in first["results"] + second["results"]]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 25


def test_staff_ask_and_another_person_approves(
    api: APIClient, world: Any, staff: Any, checker: Any
) -> None:
    rule = _rule(world, code="good", points=20)
    api.force_authenticate(staff)
    response = api.post(
        reverse("credit-api:request-create"),
        {"resident": world.resident_a.pk, "rule": rule.pk, "quantity": "1", "reason": "拾金不昧"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    pk = response.json()["id"]
    own = api.post(reverse("credit-api:request-approve", args=[pk]), {}, format="json")
    assert own.status_code == 403
    assert "其他工作人员审批" in own.json()["detail"]
    api.force_authenticate(checker)
    response = api.post(reverse("credit-api:request-approve", args=[pk]), {}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "applied"
    assert PointsAccount.objects.get(resident=world.resident_a).balance == 20
    again = api.post(reverse("credit-api:request-approve", args=[pk]), {}, format="json")
    assert again.status_code == 400


def test_asking_again_with_the_same_idempotency_key_replays_the_first_request(
    api: APIClient, world: Any, staff: Any
) -> None:
    rule = _rule(world, code="good", points=20)
    body = {"resident": world.resident_a.pk, "rule": rule.pk, "reason": "拾金不昧"}
    url = reverse("credit-api:request-create")
    api.force_authenticate(staff)
    first = api.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="ask-1")
    again = api.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="ask-1")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json() == again.json()
    assert PointsRequest.objects.count() == 1
    other = api.post(url, {**body, "quantity": "2"}, format="json", HTTP_IDEMPOTENCY_KEY="ask-1")
    assert other.status_code == 422
    assert other.json()["code"] == "key_reused"
    blank = api.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY=" ")
    assert (blank.status_code, blank.json()["code"]) == (400, "key")
    assert PointsRequest.objects.count() == 1
    assert api.post(url, body, format="json").status_code == 201  # no key: a new request


def test_reject_needs_a_note(api: APIClient, world: Any, staff: Any, checker: Any) -> None:
    request = _request(world, staff)
    api.force_authenticate(checker)
    url = reverse("credit-api:request-reject", args=[request.pk])
    assert api.post(url, {}, format="json").status_code == 400
    response = api.post(url, {"note": "证据不足"}, format="json")
    assert response.status_code == 200
    assert response.json()["decision_note"] == "证据不足"


def test_a_resident_cannot_ask_or_decide(
    api: APIClient, world: Any, resident: Any, staff: Any
) -> None:
    request = _request(world, staff)
    api.force_authenticate(resident)
    response = api.post(
        reverse("credit-api:request-create"),
        {"resident": world.resident_a.pk, "rule": request.rule_id, "reason": "自己加分"},
        format="json",
    )
    assert response.status_code == 404
    response = api.post(reverse("credit-api:request-approve", args=[request.pk]), format="json")
    assert response.status_code == 404


def test_staff_of_another_community_do_not_see_the_request(
    api: APIClient, world: Any, staff: Any
) -> None:
    request = _request(world, staff)
    other = UserFactory()
    MembershipFactory(user=other, role=Membership.Role.COMMUNITY_STAFF, community=world.other)
    api.force_authenticate(other)
    response = api.post(reverse("credit-api:request-approve", args=[request.pk]), format="json")
    assert response.status_code == 404


def test_missing_evidence_is_a_400_with_the_reason(api: APIClient, world: Any, staff: Any) -> None:
    rule = _rule(world, code="clutter", points=-5, category="misconduct", evidence="photo")
    api.force_authenticate(staff)
    response = api.post(
        reverse("credit-api:request-create"),
        {"resident": world.resident_a.pk, "rule": rule.pk, "reason": "楼道堆物"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["code"] == "evidence"


def test_schema_documents_the_points_endpoints(api: APIClient, world: Any, staff: Any) -> None:
    api.force_authenticate(staff)
    response = api.get(reverse("api-schema"), {"format": "json"})
    assert response.status_code == 200
    text = response.content.decode()
    for path in (
        "/api/v1/credit/me/history/",
        "/api/v1/credit/requests/{id}/approve/",
        "/api/v1/credit/me/deductions/{id}/appeal/",
        "/api/v1/credit/appeals/{id}/decide/",
    ):
        assert path in text
    assert "Idempotency-Key" in text


# --- appeals ----------------------------------------------------------------------------


def _notified(world: Any, maker: Any, checker: Any, resident: Any = None) -> PointsRequest:
    """A deduction asked by `maker`, approved by `checker`: notified, in its appeal window."""
    rule = _rule(world, code="clutter", points=-5, category="misconduct")
    request = points_request_create(
        actor=maker,
        resident=resident or world.resident_a,
        rule=rule,
        quantity=1,
        reason="楼道堆物",
        now=timezone.now(),
    )
    return points_request_approve(request=request, actor=checker, now=timezone.now())


def _appeal_url(request: PointsRequest) -> str:
    return reverse("credit-api:me-deduction-appeal", args=[request.pk])


def _appealed(world: Any, staff: Any, checker: Any, resident: Any) -> Appeal:
    request = _notified(world, staff, checker)
    return appeal_submit(request=request, resident_user=resident, text="不是我", now=timezone.now())


def test_resident_appeals_own_notified_deduction(
    api: APIClient, world: Any, resident: Any, staff: Any, checker: Any
) -> None:
    request = _notified(world, staff, checker)
    api.force_authenticate(resident)
    response = api.post(_appeal_url(request), {"text": "纸箱是快递员放的"}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "open" and body["request_status"] == "appealed"
    assert body["request"] == request.pk and body["text"] == "纸箱是快递员放的"
    request.refresh_from_db()
    assert request.status == PointsRequest.Status.APPEALED


def test_appeal_refusals_are_400_with_a_code(
    api: APIClient, world: Any, resident: Any, staff: Any, checker: Any
) -> None:
    request = _notified(world, staff, checker)
    api.force_authenticate(resident)
    blank = api.post(_appeal_url(request), {"text": "  "}, format="json")
    assert blank.status_code == 400 and blank.json()["code"] == "text"
    PointsRequest.objects.filter(pk=request.pk).update(
        appeal_deadline=timezone.now() - dt.timedelta(minutes=1)
    )
    late = api.post(_appeal_url(request), {"text": "太晚了"}, format="json")
    assert late.status_code == 400 and late.json()["code"] == "deadline"
    assert not Appeal.objects.exists()


def test_appealing_twice_is_refused(
    api: APIClient, world: Any, resident: Any, staff: Any, checker: Any
) -> None:
    request = _notified(world, staff, checker)
    api.force_authenticate(resident)
    assert api.post(_appeal_url(request), {"text": "一"}, format="json").status_code == 201
    again = api.post(_appeal_url(request), {"text": "二"}, format="json")
    assert again.status_code == 400 and again.json()["code"] == "status"
    assert Appeal.objects.count() == 1


def test_a_resident_cannot_appeal_a_neighbours_deduction(
    api: APIClient, world: Any, resident: Any, staff: Any, checker: Any
) -> None:
    request = _notified(world, staff, checker, resident=world.resident_b)
    api.force_authenticate(resident)
    assert api.post(_appeal_url(request), {"text": "x"}, format="json").status_code == 404
    api.force_authenticate(staff)  # the office does not appeal for the resident here
    assert api.post(_appeal_url(request), {"text": "x"}, format="json").status_code == 404


def test_another_staff_member_upholds_an_appeal_and_the_deduction_applies(
    api: APIClient, world: Any, resident: Any, staff: Any, checker: Any
) -> None:
    appeal = _appealed(world, staff, checker, resident)
    other_checker = UserFactory(name="吴干事")
    MembershipFactory(
        user=other_checker, role=Membership.Role.COMMUNITY_STAFF, community=world.home
    )
    points_award(
        resident=world.resident_a,
        rule=_rule(world, code="seed", points=20),
        key="s",
        now=timezone.now(),
    )
    api.force_authenticate(other_checker)
    url = reverse("credit-api:appeal-decide", args=[appeal.pk])
    response = api.post(url, {"uphold": True, "reasons": "照片为证"}, format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "upheld" and body["request_status"] == "applied"
    assert body["decision_reason"] == "照片为证" and body["decided_by"] == other_checker.pk
    assert PointsAccount.objects.get(resident=world.resident_a).balance == 15
    again = api.post(url, {"uphold": False, "reasons": "改判"}, format="json")
    assert again.status_code == 400 and again.json()["code"] == "transition"


def test_cancelling_on_appeal_keeps_the_points_and_the_reasons(
    api: APIClient, world: Any, resident: Any, staff: Any, checker: Any
) -> None:
    appeal = _appealed(world, staff, checker, resident)
    api.force_authenticate(checker)
    url = reverse("credit-api:appeal-decide", args=[appeal.pk])
    blank = api.post(url, {"uphold": False, "reasons": ""}, format="json")
    assert blank.status_code == 400 and blank.json()["code"] == "reasons"
    assert api.post(url, {"reasons": "x"}, format="json").status_code == 400  # uphold missing
    response = api.post(url, {"uphold": False, "reasons": "监控显示为快递员"}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert response.json()["request_status"] == "cancelled"
    assert not PointsAccount.objects.filter(resident=world.resident_a, balance__lt=0).exists()


def test_the_maker_of_a_deduction_cannot_decide_its_appeal(
    api: APIClient, world: Any, resident: Any, staff: Any, checker: Any
) -> None:
    appeal = _appealed(world, staff, checker, resident)
    api.force_authenticate(staff)
    response = api.post(
        reverse("credit-api:appeal-decide", args=[appeal.pk]),
        {"uphold": True, "reasons": "r"},
        format="json",
    )
    assert response.status_code == 403
    appeal.refresh_from_db()
    assert appeal.status == Appeal.Status.OPEN


def test_appeal_decision_is_not_for_residents_outsiders_or_other_communities(
    api: APIClient, world: Any, resident: Any, staff: Any, checker: Any, outsider: Any
) -> None:
    appeal = _appealed(world, staff, checker, resident)
    other = UserFactory()
    MembershipFactory(user=other, role=Membership.Role.COMMUNITY_STAFF, community=world.other)
    url = reverse("credit-api:appeal-decide", args=[appeal.pk])
    for user in (resident, outsider, other):
        api.force_authenticate(user)
        response = api.post(url, {"uphold": False, "reasons": "r"}, format="json")
        assert response.status_code == 404
    appeal.refresh_from_db()
    assert appeal.status == Appeal.Status.OPEN


def test_a_street_supervisor_reads_but_cannot_decide_an_appeal(
    api: APIClient, world: Any, resident: Any, staff: Any, checker: Any, street_supervisor: Any
) -> None:
    appeal = _appealed(world, staff, checker, resident)
    api.force_authenticate(street_supervisor)
    response = api.post(
        reverse("credit-api:appeal-decide", args=[appeal.pk]),
        {"uphold": False, "reasons": "r"},
        format="json",
    )
    assert response.status_code == 403


def test_appeal_apis_have_a_pinned_query_count(
    api: APIClient,
    world: Any,
    resident: Any,
    staff: Any,
    checker: Any,
    django_assert_max_num_queries: Any,
) -> None:
    request = _notified(world, staff, checker)
    api.force_authenticate(resident)
    # The deduction, then in the transaction: lock it, insert the appeal and its history,
    # move the request and record its history.
    with django_assert_max_num_queries(8):
        response = api.post(_appeal_url(request), {"text": "不是我"}, format="json")
    assert response.status_code == 201
    api.force_authenticate(checker)
    # Scope and appeal; locks, the decider check, both moves with history, and the
    # ledger's deduction (account lock, entry, balance).
    with django_assert_max_num_queries(18):
        response = api.post(
            reverse("credit-api:appeal-decide", args=[response.json()["id"]]),
            {"uphold": True, "reasons": "r"},
            format="json",
        )
    assert response.status_code == 200
