"""Grievance KPIs (/grievances/kpis/): the numbers of a hand-built month whose right
answers are counted by hand below, the period choices, scoping, and the Excel export."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from openpyxl import load_workbook

from grievances import services
from grievances.models import Grievance
from grievances.selectors.e_kpis import grievance_kpis
from grievances.tests.factories import NOW, GrievanceFactory

pytestmark = pytest.mark.django_db

KPIS = "/grievances/kpis/"
EXPORT = "/grievances/kpis/export/"
MARCH = {"period": "month", "month": "2026-03"}
SUGGESTION_BOX = Grievance.Channel.SUGGESTION_BOX


@pytest.fixture
def month(flow: Any, world: Any) -> dict[str, Grievance]:
    """March 2026 in `home`, filed from Monday 2 March 10:00 (Shanghai), a minute a step.

    g1  answered in 1 min; on site and resolved in time (2 clocks met); rated solved, 5★
    g2  the same, but rated "not solved", 2★: reopened and sent back to the company
    g3  answered after 90 min; on site 30 min after taking it (arrive clock late); its
        1-hour resolve clock is still running and long past due (late)
    g4  never answered
    g5  a suggestion-box slip the office answered in 1 min and resolved itself
    g6  a suggestion-box slip nobody answered
    g7  a duplicate merged into g4: not counted anywhere
    g10 rejected 5 minutes after filing (answered in time, never resolved)
    g11 filed 1 March 00:01 Shanghai (28 Feb 16:01 UTC): in March
    feb filed 28 February 23:59 Shanghai: not in March, in the first quarter
    far in the other community: only in the street supervisor's reports
    """
    staff, handler, resident = flow.staff, flow.property_staff, flow.resident
    g1 = flow.resolved()
    services.grievance_rate(grievance=g1, actor=resident, solved=True, stars=5, now=flow.tick())
    g2 = flow.resolved()
    services.grievance_rate(grievance=g2, actor=resident, solved=False, stars=2, now=flow.tick())

    g3 = flow.file()
    services.grievance_accept(grievance=g3, actor=staff, now=flow.tick(90))
    dispatch = services.grievance_dispatch(
        grievance=g3, actor=staff, now=flow.tick(), organization=world.property_company
    )
    services.dispatch_accept(dispatch=dispatch, actor=handler, now=flow.tick())
    services.grievance_check_in(
        grievance=g3, actor=handler, now=flow.tick(30), latitude="31.2", longitude="121.4"
    )

    g4 = flow.file()
    suggestion = flow.categories.suggestion
    g5 = flow.accepted(category=suggestion, channel=SUGGESTION_BOX)
    services.grievance_resolve(grievance=g5, actor=staff, note="已采纳", now=flow.tick())
    g6 = flow.file(category=suggestion, channel=SUGGESTION_BOX)
    g7 = flow.file()
    services.grievance_merge(grievance=g7, into=g4, actor=staff, now=flow.tick())
    g10 = flow.file()
    services.grievance_reject(grievance=g10, actor=staff, reason="不属实", now=flow.tick(5))

    lamp = flow.categories.lamp
    g11 = GrievanceFactory(
        community=world.home,
        category=lamp,
        submitted_at=dt.datetime(2026, 2, 28, 16, 1, tzinfo=dt.UTC),
    )
    feb = GrievanceFactory(
        community=world.home,
        category=lamp,
        submitted_at=dt.datetime(2026, 2, 28, 15, 59, tzinfo=dt.UTC),
    )
    far = GrievanceFactory(community=world.other, category=lamp, submitted_at=NOW)
    assert flow.now < NOW + dt.timedelta(hours=12)  # everything above on 2 March
    return {
        "g1": g1,
        "g2": g2,
        "g3": g3,
        "g4": g4,
        "g5": g5,
        "g6": g6,
        "g7": g7,
        "g10": g10,
        "g11": g11,
        "feb": feb,
        "far": far,
    }


def _report(user: Any, **kwargs: Any) -> Any:
    values = {
        "start": dt.date(2026, 3, 1),
        "end": dt.date(2026, 3, 31),
        "now": NOW + dt.timedelta(days=1),
    }
    values.update(kwargs)
    return grievance_kpis(user=user, **values)


def test_the_months_figures_are_the_hand_counted_ones(month: Any, staff: Any) -> None:
    report = _report(staff)
    total = report.total
    # Filed: g1 g2 g3 g4 g5 g6 g10 g11 (g7 merged, feb and far out).
    assert total.filed == 8
    # Answered within 60 minutes: g1 g2 g5 g10.
    assert (total.responded, total.response_rate) == (4, 0.5)
    # Clocks: g1 2/2, g2 2/2, g3 0/2 (arrive met late, resolve running past due).
    assert (total.clocks_on_time, total.clocks_judged) == (4, 6)
    # Resolved or closed: g1 (closed), g5 (resolved).
    assert (total.resolved, total.resolution_rate) == (2, 0.25)
    # Ratings: g1 solved 5★, g2 not solved 2★.
    assert (total.ratings_solved, total.ratings) == (1, 2)
    assert total.satisfaction_rate == 0.5
    assert total.average_stars == 3.5
    # Resolved at least once: g1 g2 g5; reopened: g2.
    assert (total.reopened, total.resolved_once) == (1, 3)
    # Two residents live in home: 8 per 2 residents = 4,000 per 1,000.
    assert total.residents == 2
    assert total.per_thousand_residents == 4000
    # Suggestion box: g5 resolved, g6 open.
    assert (total.suggestions_rectified, total.suggestions, total.rectification_rate) == (
        1,
        2,
        0.5,
    )
    assert [c.name for c in report.communities] == [month["g1"].community.name]


def test_breakdowns_by_handler_and_category_add_up(month: Any, world: Any, staff: Any) -> None:
    report = _report(staff)
    handlers = {row.key: row for row in report.by_handler}
    company = handlers[world.property_company.pk]
    # g1 and g3 were taken by the company; g2 was sent back and waits for an answer.
    assert company.filed == 2
    assert (company.responded, company.clocks_on_time, company.clocks_judged) == (1, 2, 4)
    assert (company.resolved, company.ratings_solved, company.ratings) == (1, 1, 1)
    assert company.per_thousand_residents is None
    office = handlers[None]
    assert office.filed == 6
    assert (office.reopened, office.clocks_on_time, office.clocks_judged) == (1, 2, 2)

    categories = {row.key: row for row in report.by_category}
    lamp, suggestion = world_categories(month)
    assert categories[lamp].filed == 6  # g1 g2 g3 g4 g10 g11
    assert categories[suggestion].filed == 2
    assert categories[suggestion].rectification_rate == 0.5
    assert categories[lamp].per_thousand_residents == 3000
    for rows in (report.by_community, report.by_handler, report.by_category):
        assert sum(row.filed for row in rows) == report.total.filed


def world_categories(month: dict[str, Grievance]) -> tuple[int, int]:
    return month["g1"].category_id, month["g5"].category_id


def test_a_street_supervisor_sees_every_community_of_the_street(
    month: Any, world: Any, street_supervisor: Any
) -> None:
    report = _report(street_supervisor)
    rows = {row.key: row for row in report.by_community}
    assert set(rows) == {world.home.pk, world.other.pk}
    assert rows[world.other.pk].filed == 1
    assert rows[world.other.pk].per_thousand_residents == 1000  # one resident there
    assert report.total.filed == 9
    assert report.total.residents == 3
    only_other = _report(street_supervisor, community=world.other)
    assert only_other.total.filed == 1


def test_a_community_nobody_filed_in_still_has_its_row(world: Any, street_supervisor: Any) -> None:
    report = _report(street_supervisor)
    assert {row.key: row.filed for row in report.by_community} == {
        world.home.pk: 0,
        world.other.pk: 0,
    }
    assert report.total.response_rate is None  # no data, not 0 %


# --- the page -----------------------------------------------------------------------------


def english(client: Any, user: Any) -> Any:
    client.force_login(user)
    client.cookies["django_language"] = "en"
    return client


@pytest.mark.parametrize("persona", ["outsider", "resident", "grid_worker", "property_staff"])
def test_kpis_are_not_there_for_who_does_not_oversee_a_community(
    client: Any, request: Any, persona: str
) -> None:
    client.force_login(request.getfixturevalue(persona))
    assert client.get(KPIS).status_code == 404
    assert client.get(EXPORT).status_code == 404


def test_the_page_shows_the_months_rates_and_what_they_mean(
    client: Any, month: Any, staff: Any
) -> None:
    response = english(client, staff).get(KPIS, MARCH)
    assert response.status_code == 200
    html = response.content.decode()
    total = dict(response.context["total_cells"])
    assert total["Response rate"] == ("50.0%", "4/8")
    assert total["On-time rate"] == ("66.7%", "4/6")
    assert total["Resolution rate"] == ("25.0%", "2/8")
    assert total["Satisfaction rate"] == ("50.0%", "1/2")
    assert total["Average stars"][0] == "3.50"
    assert total["Reopen rate"] == ("33.3%", "1/3")
    assert total["Per 1,000 residents"] == ("4000.00", "8/2")
    assert total["Suggestions rectified"] == ("50.0%", "1/2")
    assert "2026-03-01" in html and "2026-03-31" in html
    assert "within 60 minutes of filing" in html  # the definition is on the page


def test_a_quarter_and_custom_dates(client: Any, month: Any, staff: Any) -> None:
    client = english(client, staff)
    quarter = client.get(KPIS, {"period": "quarter", "quarter": "2026-Q1"})
    assert quarter.context["report"].total.filed == 9  # March's 8 and February's one
    one_day = client.get(KPIS, {"period": "custom", "start": "2026-03-02", "end": "2026-03-02"})
    assert one_day.context["report"].total.filed == 7  # not g11 (1 March)
    backwards = client.get(KPIS, {"period": "custom", "start": "2026-03-02", "end": "2026-03-01"})
    assert backwards.status_code == 400
    assert "The start date is after the end date." in backwards.content.decode()
    assert client.get(KPIS, {"period": "month", "month": "2026-13"}).status_code == 400


def test_a_community_outside_the_scope_is_refused(
    client: Any, month: Any, world: Any, staff: Any
) -> None:
    response = english(client, staff).get(KPIS, {**MARCH, "community": world.other.pk})
    assert response.status_code == 400


def test_the_page_costs_the_same_queries_however_many_grievances(
    client: Any, month: Any, staff: Any, django_assert_max_num_queries: Any
) -> None:
    client = english(client, staff)
    # session, user, scope, the report's communities, residents, three breakdowns of three
    # aggregates, two label lookups, the inbox badge, the community choices
    with django_assert_max_num_queries(19):
        assert client.get(KPIS, MARCH).status_code == 200


# --- the export ---------------------------------------------------------------------------


def test_the_export_opens_with_a_sheet_per_breakdown(
    client: Any, month: Any, world: Any, staff: Any
) -> None:
    response = english(client, staff).get(EXPORT, MARCH)
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert book.sheetnames == [
        "Definitions",
        "By community",
        "By handling organization",
        "By category",
    ]
    rows = list(book["By community"].iter_rows(values_only=True))
    header = rows[0]
    home, total = rows[1], rows[-1]
    assert home[0] == world.home.name
    assert total[0] == "All"
    column = {name: index for index, name in enumerate(header)}
    assert home[column["Grievances filed"]] == 8
    assert home[column["Response rate"]] == 0.5
    assert home[column["Average stars"]] == 3.5
    assert home[column["Per 1,000 residents"]] == 4000
    by_category = list(book["By category"].iter_rows(values_only=True))
    assert sorted(r[column["Grievances filed"]] for r in by_category[1:-1]) == [2, 6]
    definitions = [r[0] for r in book["Definitions"].iter_rows(values_only=True)]
    assert "Response rate" in definitions
