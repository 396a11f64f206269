"""The dispatch board (/grievances/board/): who sees it, its four lists with live time
left, filters, bulk accept and dispatch with per-item failures, the 台账 export, and a
query count that does not grow with the rows."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from community.models import Organization
from community.tests.factories import EstateFactory, OrganizationFactory, UserFactory
from grievances import services
from grievances.models import Grievance
from grievances.tests.factories import GrievanceFactory

pytestmark = pytest.mark.django_db

BOARD = "/grievances/board/"
BULK = "/grievances/board/bulk/"
EXPORT = "/grievances/board/export/"
Status = Grievance.Status


@pytest.fixture
def recent(flow: Any) -> Any:
    """The flow, started three hours ago: its clocks are due around now."""
    flow.now = timezone.now() - dt.timedelta(hours=3)
    return flow


def english(client: Any, user: Any) -> Any:
    client.force_login(user)
    client.cookies["django_language"] = "en"
    return client


def listed(response: Any) -> dict[str, list[int]]:
    return {
        board_list.name: [row.grievance.pk for row in board_list.rows]
        for board_list in response.context["lists"]
    }


def taken_at(flow: Any, minutes_ago: int) -> Grievance:
    """A grievance whose dispatch the property company accepted `minutes_ago` minutes ago
    (its 10-minute arrive clock and 1-hour resolve clock run from then)."""
    flow.now = timezone.now() - dt.timedelta(minutes=minutes_ago + 4)
    grievance, _dispatch = flow.taken()  # files, accepts, dispatches, takes: a minute each
    return grievance


# --- who sees it ---------------------------------------------------------------------------


def test_urls_are_named_for_the_menu() -> None:
    assert reverse("grievances:board") == BOARD
    assert reverse("grievances:kpis") == "/grievances/kpis/"


@pytest.mark.parametrize("persona", ["outsider", "resident", "grid_worker", "property_staff"])
def test_the_board_is_not_there_for_who_does_not_oversee_a_community(
    client: Any, request: Any, persona: str
) -> None:
    client.force_login(request.getfixturevalue(persona))
    assert client.get(BOARD).status_code == 404
    assert client.post(BULK, {"action": "accept", "ids": [1]}).status_code == 404
    assert client.get(EXPORT).status_code == 404


def test_anonymous_visitors_are_sent_to_log_in(client: Any) -> None:
    response = client.get(BOARD)
    assert response.status_code == 302
    assert "/accounts/" in response["Location"]


def test_staff_see_their_community_and_a_street_supervisor_the_whole_street(
    client: Any, recent: Any, world: Any, staff: Any, street_supervisor: Any
) -> None:
    mine = recent.file()
    theirs = GrievanceFactory(community=world.other, submitted_at=timezone.now())
    assert listed(english(client, staff).get(BOARD))["new"] == [mine.pk]
    response = english(client, street_supervisor).get(BOARD)
    assert sorted(listed(response)["new"]) == sorted([mine.pk, theirs.pk])
    # A supervisor reads: no ticks, no bulk form.
    assert response.context["may_act"] is False
    assert b'id="bulk-form"' not in response.content


def test_a_superuser_sees_every_community(client: Any, recent: Any, world: Any) -> None:
    mine = recent.file()
    theirs = GrievanceFactory(community=world.other, submitted_at=timezone.now())
    admin = UserFactory(is_superuser=True, is_staff=True)
    assert sorted(listed(english(client, admin).get(BOARD))["new"]) == sorted([mine.pk, theirs.pk])


# --- the lists -----------------------------------------------------------------------------


def test_each_list_holds_what_its_name_says_with_live_time_left(
    client: Any, recent: Any, staff: Any
) -> None:
    new = recent.file(title="新报的")
    unassigned = recent.accepted(title="受理未派")
    overdue = taken_at(recent, minutes_ago=30)  # arrive clock 20 minutes overdue
    soon = taken_at(recent, minutes_ago=3)  # arrive clock due in about 7 minutes
    waiting_answer, _dispatch = recent.dispatched(title="等接单")  # no clock yet

    response = english(client, staff).get(BOARD)
    lists = listed(response)
    assert lists["new"] == [new.pk]
    assert lists["unassigned"] == [unassigned.pk]
    assert lists["overdue"] == [overdue.pk]
    assert lists["due_soon"] == [soon.pk]
    assert all(waiting_answer.pk not in pks for pks in lists.values())

    html = response.content.decode()
    rows = {r.grievance.pk: r for bl in response.context["lists"] for r in bl.rows}
    assert rows[overdue.pk].tone == "danger"
    assert "overdue" in rows[overdue.pk].time_left
    assert rows[soon.pk].tone == "warning"
    assert "left" in rows[soon.pk].time_left
    assert rows[overdue.pk].time_left in html and rows[soon.pk].time_left in html
    # Rows link to the grievance page.
    assert f'href="/grievances/{overdue.pk}/"' in html


def test_a_clock_met_in_time_leaves_the_overdue_list(
    client: Any, recent: Any, staff: Any, property_staff: Any
) -> None:
    grievance = taken_at(recent, minutes_ago=5)
    services.grievance_check_in(
        grievance=grievance,
        actor=property_staff,
        now=timezone.now(),
        latitude="31.2",
        longitude="121.4",
    )
    lists = listed(english(client, staff).get(BOARD))
    # The arrive clock stopped; the resolve clock (1 hour) is still due within two hours.
    assert grievance.pk not in lists["overdue"]
    assert lists["due_soon"] == [grievance.pk]


def test_lists_page_by_twenty_and_keep_the_filters_in_their_links(
    client: Any, recent: Any, world: Any, staff: Any
) -> None:
    for n in range(23):
        GrievanceFactory(
            community=world.home,
            estate=world.estate,
            category=recent.categories.lamp,
            submitted_at=timezone.now() - dt.timedelta(minutes=n),
        )
    client = english(client, staff)
    first = client.get(BOARD, {"estate": world.estate.pk})
    new_list = first.context["lists"][0]
    assert len(new_list.rows) == 20
    assert new_list.page.paginator.count == 23
    assert f"estate={world.estate.pk}" in new_list.next_url
    second = client.get(BOARD + new_list.next_url)
    assert len(second.context["lists"][0].rows) == 3


def test_filters_by_estate_category_and_handler(
    client: Any, recent: Any, world: Any, staff: Any
) -> None:
    second_estate = EstateFactory(community=world.home)
    at_home = recent.file(building=world.building_a)
    elsewhere = recent.file(estate=second_estate, title="另一个小区")
    suggestion = recent.file(
        category=recent.categories.suggestion,
        channel=Grievance.Channel.SUGGESTION_BOX,
        building=world.building_b,
    )
    handled = taken_at(recent, minutes_ago=30)
    client = english(client, staff)

    by_estate = listed(client.get(BOARD, {"estate": second_estate.pk}))
    assert by_estate["new"] == [elsewhere.pk]
    by_category = listed(client.get(BOARD, {"category": recent.categories.suggestion.pk}))
    assert by_category["new"] == [suggestion.pk]
    by_handler = listed(client.get(BOARD, {"handler": world.property_company.pk}))
    assert by_handler == {"new": [], "unassigned": [], "overdue": [handled.pk], "due_soon": []}
    unfiltered = listed(client.get(BOARD))
    assert sorted(unfiltered["new"]) == sorted([at_home.pk, elsewhere.pk, suggestion.pk])


def test_a_filter_outside_the_scope_is_refused_not_applied(
    client: Any, recent: Any, world: Any, staff: Any
) -> None:
    mine = recent.file()
    response = english(client, staff).get(BOARD, {"estate": world.other_estate.pk})
    assert response.status_code == 200
    assert response.context["form"].errors["estate"]
    assert listed(response)["new"] == [mine.pk]


def test_the_minute_refresh_returns_the_lists_only(client: Any, recent: Any, staff: Any) -> None:
    recent.file()
    response = english(client, staff).get(BOARD, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="board-lists"')
    assert "<html" not in html
    assert 'hx-trigger="every 60s' in html


def test_query_count_does_not_grow_with_the_rows(
    client: Any, recent: Any, world: Any, staff: Any, django_assert_max_num_queries: Any
) -> None:
    def make(count: int) -> None:
        for _n in range(count):
            recent.file()
            recent.accepted()
            taken_at(recent, minutes_ago=30)
            taken_at(recent, minutes_ago=3)

    client = english(client, staff)
    make(1)
    with CaptureQueriesContext(connection) as one:
        assert client.get(BOARD).status_code == 200
    make(24)
    with CaptureQueriesContext(connection) as many:
        response = client.get(BOARD)
    assert all(len(bl.rows) == 20 for bl in response.context["lists"])
    assert len(many.captured_queries) == len(one.captured_queries)
    # session, user, scope, communities, two per list (count, page), estates, categories,
    # organizations, the inbox badge
    with django_assert_max_num_queries(16):
        client.get(BOARD)


# --- bulk actions --------------------------------------------------------------------------


def test_bulk_accept_reports_the_one_that_failed(
    client: Any, recent: Any, world: Any, staff: Any
) -> None:
    first, second = recent.file(), recent.file()
    already = recent.accepted()
    client = english(client, staff)
    response = client.post(
        BULK,
        {"action": "accept", "ids": [first.pk, second.pk, already.pk], "estate": world.estate.pk},
    )
    assert response.status_code == 302
    assert response["Location"] == f"{BOARD}?estate={world.estate.pk}"
    texts = [str(m) for m in get_messages(response.wsgi_request)]
    assert "2 grievances accepted." in texts
    assert any(t.startswith(f"#{already.pk}: ") for t in texts)
    statuses = dict(Grievance.objects.values_list("pk", "status"))
    assert statuses[first.pk] == statuses[second.pk] == Status.ACCEPTED


def test_bulk_dispatch_sends_to_the_chosen_receiver_and_refuses_what_is_not_on_the_board(
    client: Any, recent: Any, world: Any, staff: Any
) -> None:
    ours = recent.accepted()
    fresh = recent.file()  # submitted: accepted on the way, as the service does
    theirs = GrievanceFactory(community=world.other, status=Status.ACCEPTED)
    partner = OrganizationFactory(kind=Organization.Kind.PARTNER_UNIT, community=world.home)
    response = english(client, staff).post(
        BULK,
        {
            "action": "dispatch",
            "ids": [ours.pk, fresh.pk, theirs.pk],
            "organization": partner.pk,
            "note": "请尽快处理",
        },
    )
    texts = [str(m) for m in get_messages(response.wsgi_request)]
    assert "2 grievances dispatched." in texts
    assert f"#{theirs.pk}: Not found." in texts
    for grievance in (ours, fresh):
        grievance.refresh_from_db()
        assert grievance.status == Status.DISPATCHED
        assert grievance.dispatches.get().organization == partner
    theirs.refresh_from_db()
    assert theirs.status == Status.ACCEPTED


def test_bulk_dispatch_without_a_receiver_uses_each_default_handler(
    client: Any, recent: Any, world: Any, staff: Any
) -> None:
    grievance = recent.accepted(building=world.building_a)
    english(client, staff).post(BULK, {"action": "dispatch", "ids": [grievance.pk]})
    assert grievance.dispatches.get().organization == world.property_company


def test_bulk_without_a_tick_says_so(client: Any, staff: Any) -> None:
    response = english(client, staff).post(BULK, {"action": "accept"})
    assert response.status_code == 302
    assert "Tick at least one grievance." in [str(m) for m in get_messages(response.wsgi_request)]


def test_a_street_supervisor_may_not_act_in_bulk(
    client: Any, recent: Any, street_supervisor: Any
) -> None:
    grievance = recent.file()
    response = english(client, street_supervisor).post(
        BULK, {"action": "accept", "ids": [grievance.pk]}
    )
    assert response.status_code == 403
    grievance.refresh_from_db()
    assert grievance.status == Status.SUBMITTED


# --- the 台账 export -----------------------------------------------------------------------


def test_the_ledger_export_has_the_filtered_rows_and_no_names(
    client: Any, recent: Any, world: Any, staff: Any
) -> None:
    world.resident_a.phone = "13912345678"
    world.resident_a.save(update_fields=["phone"])
    mine = recent.file(title='=HYPERLINK("x")')  # reported by resident_a, at their home
    other_estate = EstateFactory(community=world.home)
    recent.file(estate=other_estate, title="不在筛选里")
    response = english(client, staff).get(EXPORT, {"estate": world.estate.pk})
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    sheet = book.worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "No."
    assert [r[0] for r in rows[1:]] == [mine.pk]
    row = rows[1]
    assert "139****5678" in row
    assert '=HYPERLINK("x")' in row  # kept as text, not a formula
    assert sheet.cell(row=2, column=7).data_type == "s"
    assert world.resident_a.name not in [str(v) for v in row]
    assert "13912345678" not in [str(v) for v in row]


def test_the_ledger_export_of_one_list(client: Any, recent: Any, staff: Any) -> None:
    overdue = taken_at(recent, minutes_ago=30)
    recent.file()
    response = english(client, staff).get(EXPORT, {"list": "overdue"})
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    assert [r[0] for r in rows[1:]] == [overdue.pk]
    assert "overdue" in rows[1][-1]
    assert english(client, staff).get(EXPORT, {"list": "nope"}).status_code == 400
