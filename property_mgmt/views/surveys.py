"""Pages of the satisfaction surveys (物业满意度测评): the office's list, new survey,
open/close and results (desktop); the resident's rating page and the grid worker's page
for a household without a phone (phone-first, 375 px).

Every page asks a selector for what the user may see (404 otherwise) and one service for
what they may do; a refusal of the service is shown in its own words.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from community.models import Building, Community, Household
from property_mgmt.models import Survey
from property_mgmt.models.surveys import AREAS
from property_mgmt.selectors import surveys as selectors
from property_mgmt.selectors import surveys_pages as pages
from property_mgmt.services import surveys as services
from property_mgmt.views import surveys_forms as forms
from property_mgmt.views.common import refusal

PAGE_SIZE = 20


def percent(value: Any) -> str:
    """A fraction as a page shows it: 51.25% (— when there is nothing to judge)."""
    if value is None:
        return "—"
    return f"{value * 100:.2f}%"


def office_community(request: HttpRequest) -> tuple[list[Community], Community]:
    """The office communities of the user and the one picked (?community=); 404 for
    anyone who works in no community office."""
    communities = pages.office_communities(user=request.user)
    community = pages.pick_community(communities, request.GET.get("community"))
    if community is None:
        raise Http404
    return communities, community


# --- the office ---------------------------------------------------------------------


@login_required
@require_safe
def survey_office(request: HttpRequest) -> HttpResponse:
    communities, community = office_community(request)
    page = Paginator(pages.survey_list(user=request.user, community=community), PAGE_SIZE)
    return render(
        request,
        "property_mgmt/surveys/office.html",
        {
            "communities": communities,
            "community": community,
            "page": page.get_page(request.GET.get("page")),
            "section": "surveys",
        },
    )


@login_required
def survey_new(request: HttpRequest) -> HttpResponse:
    communities, community = office_community(request)
    providers = pages.community_providers(community=community)
    estates = pages.community_estates(community=community)
    if request.method == "POST":
        form = forms.SurveyForm(request.POST, providers=providers, estates=estates)
        if form.is_valid():
            data = form.cleaned_data
            try:
                survey = services.survey_create(
                    actor=request.user,
                    community=community,
                    provider=form.providers[data["provider"]],
                    estates=[form.estate_map[pk] for pk in data["estates"]],
                    title=data["title"],
                    period_start=data["period_start"],
                    period_end=data["period_end"],
                    now=timezone.now(),
                )
            except ValidationError as exc:
                forms.apply_error(form, exc)
            except PermissionDenied as exc:
                messages.error(request, refusal(exc))
                return redirect("property:survey-office")
            else:
                messages.success(request, _("Survey created as a draft. Open it for answers."))
                return redirect("property:survey-results", survey.pk)
    else:
        form = forms.SurveyForm(providers=providers, estates=estates)
    return render(
        request,
        "property_mgmt/surveys/new.html",
        {"communities": communities, "community": community, "form": form, "section": "surveys"},
    )


def _survey(request: HttpRequest, pk: int) -> Survey:
    try:
        return pages.survey_for(user=request.user, pk=pk)
    except Survey.DoesNotExist:
        raise Http404 from None


@login_required
@require_safe
def survey_results(request: HttpRequest, pk: int) -> HttpResponse:
    survey = _survey(request, pk)
    results = selectors.survey_results(user=request.user, survey=survey)
    trend = selectors.survey_trend(
        user=request.user, provider=survey.provider, community=survey.community
    )
    return render(
        request,
        "property_mgmt/surveys/results.html",
        {
            "survey": survey,
            "estate_names": pages.survey_estate_names(survey=survey),
            "results": results,
            "rows_total": _row(results.total),
            "rows_estate": [_row(r) for r in results.by_estate],
            "rows_building": [_row(r) for r in results.by_building],
            "trend": [(p, percent(p.response_rate)) for p in trend],
            "areas": [(a, forms.AREA_LABELS[a]) for a in AREAS],
            "may_manage": selectors.is_community_staff(request.user, survey.community_id),
        },
    )


def _row(row: selectors.ResultRow) -> dict[str, Any]:
    areas = row.areas
    return {
        "label": row.label,
        "households": row.households,
        "answers": row.answers,
        "rate": percent(row.response_rate),
        "overall": row.overall,
        "areas": [areas[a] for a in AREAS],
    }


@login_required
@require_POST
def survey_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    survey = _survey(request, pk)
    moves = {"open": services.survey_open, "close": services.survey_close}
    if action not in moves:
        raise Http404
    try:
        moves[action](survey=survey, actor=request.user, now=timezone.now())
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, refusal(exc))
    else:
        if action == "open":
            messages.success(request, _("The survey is open: households can answer now."))
        else:
            messages.success(request, _("The survey is closed: its results are final."))
    return redirect("property:survey-results", survey.pk)


# --- the resident's phone page ------------------------------------------------------


@login_required
@require_safe
def survey_portal(request: HttpRequest) -> HttpResponse:
    if not pages.has_household(user=request.user):
        raise Http404
    rows = selectors.open_surveys_for(user=request.user)
    return render(
        request,
        "property_mgmt/surveys/portal.html",
        {"rows": rows, "form": forms.AnswerForm(), "areas": _areas()},
    )


def _areas() -> list[tuple[str, Any]]:
    return [(a, forms.AREA_LABELS[a]) for a in AREAS]


def _answer(
    request: HttpRequest, *, survey: Survey, household: Household, on_behalf: bool
) -> tuple[bool, forms.AnswerForm]:
    """Parse the rating and make the one service call; True when it was recorded."""
    form = forms.AnswerForm(request.POST)
    if not form.is_valid():
        return False, form
    try:
        services.survey_answer(
            survey=survey,
            household=household,
            actor=request.user,
            now=timezone.now(),
            on_behalf=on_behalf,
            **form.ratings(),
        )
    except ValidationError as exc:
        if getattr(exc, "code", None) in ("answered", "closed", "household"):
            messages.error(request, refusal(exc))
        else:
            forms.apply_error(form, exc)
        return False, form
    except PermissionDenied as exc:
        messages.error(request, refusal(exc))
        return False, form
    return True, form


@login_required
@require_POST
def survey_portal_answer(request: HttpRequest, pk: int, household_id: int) -> HttpResponse:
    try:
        survey, household = pages.portal_target(
            user=request.user, survey_id=pk, household_id=household_id
        )
    except (Survey.DoesNotExist, Household.DoesNotExist):
        raise Http404 from None
    done, form = _answer(request, survey=survey, household=household, on_behalf=False)
    if done:
        messages.success(request, _("Thank you: your household's answer is recorded."))
        return redirect("property:survey-portal")
    _form_errors(request, form)
    return redirect("property:survey-portal")


def _form_errors(request: HttpRequest, form: forms.AnswerForm) -> None:
    # The rating form sits in a card of a list page: its errors come back as messages.
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, str(error))


# --- the grid worker's phone page ---------------------------------------------------


def _int(raw: str | None) -> int | None:
    return int(raw) if raw and raw.isdigit() and len(raw) < 18 else None


@login_required
@require_safe
def survey_grid(request: HttpRequest) -> HttpResponse:
    buildings = pages.grid_buildings(user=request.user)
    if not buildings:
        raise Http404
    context: dict[str, Any] = {"buildings": buildings, "areas": _areas()}
    building_id = _int(request.GET.get("building"))
    if building_id is not None:
        try:
            building = pages.grid_building_for(user=request.user, building_id=building_id)
        except Building.DoesNotExist:
            raise Http404 from None
        context["building"] = building
        context["households"] = pages.building_households(building=building)
    household_id = _int(request.GET.get("household"))
    if household_id is not None:
        try:
            household = pages.grid_household_for(user=request.user, household_id=household_id)
        except Household.DoesNotExist:
            raise Http404 from None
        context["household"] = household
        context["building"] = household.unit.building
        context["households"] = pages.building_households(building=household.unit.building)
        context["surveys"] = pages.household_open_surveys(household=household)
        context["form"] = forms.AnswerForm()
    return render(request, "property_mgmt/surveys/grid.html", context)


@login_required
@require_POST
def survey_grid_answer(request: HttpRequest, household_id: int, pk: int) -> HttpResponse:
    try:
        household = pages.grid_household_for(user=request.user, household_id=household_id)
        survey = pages.open_survey_for_household(household=household, survey_id=pk)
    except (Household.DoesNotExist, Survey.DoesNotExist):
        raise Http404 from None
    done, form = _answer(request, survey=survey, household=household, on_behalf=True)
    if done:
        messages.success(
            request, _("Answer recorded on the household's behalf, as entered by you.")
        )
    else:
        _form_errors(request, form)
    return redirect(f"{reverse('property:survey-grid')}?household={household.pk}")
