"""Satisfaction surveys of a provider (物业满意度测评): staff open a round for a provider
and period; each household answers once, on the portal or through a grid worker.

Status map: draft → open → closed, each move a compare-and-set. The answer's "once per
household" rule is the unique constraint survey_one_answer_per_household: two members
of a household submitting at the same moment both pass every check in Python, and only
the index lets exactly one through.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from community.models import Community, Estate, Household, Membership, Organization, Resident
from property_mgmt.models import Survey, SurveyResponse
from property_mgmt.models.surveys import AREAS
from property_mgmt.selectors.surveys import estates_served_q, is_community_staff
from property_mgmt.services.common import field_error

Role = Membership.Role
Status = Survey.Status

#: Which status may follow which; a closed survey stays closed (its results are final).
TRANSITIONS: dict[str, frozenset[str]] = {
    Status.DRAFT: frozenset({Status.OPEN}),
    Status.OPEN: frozenset({Status.CLOSED}),
    Status.CLOSED: frozenset(),
}


def survey_create(
    *,
    actor: Any,
    community: Community,
    provider: Organization,
    estates: Iterable[Estate],
    title: str,
    period_start: dt.date,
    period_end: dt.date,
    now: dt.datetime,
) -> Survey:
    """Create a draft survey of a provider for a period over some of its estates."""
    if not is_community_staff(actor, community.pk):
        raise PermissionDenied(_("Only community staff may create a survey."))
    if provider.kind != Organization.Kind.PROPERTY_COMPANY:
        raise ValidationError(_("A survey rates a property company."), code="provider")
    title = title.strip()
    if not title:
        raise ValidationError(_("A survey needs a title."), code="title")
    if period_end < period_start:
        raise ValidationError(_("The period ends before it starts."), code="period")
    estate_ids = sorted({estate.pk for estate in estates})
    if not estate_ids:
        raise ValidationError(_("Choose at least one estate."), code="estates")
    served = set(
        Estate.objects.filter(
            estates_served_q(provider.pk, period_start, period_end),
            pk__in=estate_ids,
            community=community,
        ).values_list("pk", flat=True)
    )
    if served != set(estate_ids):
        raise ValidationError(
            _("Every estate must be in this community and served by the provider."),
            code="estates",
        )
    with transaction.atomic(durable=True):
        survey = Survey(
            community=community,
            provider=provider,
            title=title,
            period_start=period_start,
            period_end=period_end,
            status=Status.DRAFT,
            created_by=actor,
        )
        survey._history_user = actor  # type: ignore[attr-defined]
        survey.save()
        survey.estates.set(estate_ids)
    return survey


def _move(survey: Survey, new: str, *, actor: Any, now: dt.datetime, **fields: Any) -> Survey:
    if not is_community_staff(actor, survey.community_id):
        raise PermissionDenied(_("Only community staff may open or close a survey."))
    with transaction.atomic(durable=True):
        old = Survey.objects.filter(pk=survey.pk).values_list("status", flat=True).get()
        if new not in TRANSITIONS[old]:
            raise ValidationError(
                _("This survey cannot go from %(old)s to %(new)s.")
                % {"old": Status(old).label, "new": Status(new).label},
                code="status",
            )
        # Compare-and-set: a second click (or a colleague) moving it meanwhile loses.
        if Survey.objects.filter(pk=survey.pk, status=old).update(status=new, **fields) != 1:
            raise ValidationError(
                _("Someone else changed this survey meanwhile. Reload and try again."),
                code="conflict",
            )
        survey.status = new
        for key, value in fields.items():
            setattr(survey, key, value)
        # update() skips simple-history's signal: record the move and who made it.
        Survey.history.bulk_history_create(
            [survey], update=True, default_user=actor, default_date=now
        )
    return survey


def survey_open(*, survey: Survey, actor: Any, now: dt.datetime) -> Survey:
    """Open a draft survey for answers."""
    return _move(survey, Status.OPEN, actor=actor, now=now, opened_at=now)


def survey_close(*, survey: Survey, actor: Any, now: dt.datetime) -> Survey:
    """Close an open survey: no more answers, its results are final."""
    return _move(survey, Status.CLOSED, actor=actor, now=now, closed_at=now)


def _rating(value: Any, *, field: str, required: bool) -> int | None:
    if value is None or value == "":
        if required:
            raise field_error(field, _("Give a rating from 1 to 5."), "rating")
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = 0
    if isinstance(value, bool) or str(number) != str(value).strip() or not 1 <= number <= 5:
        raise field_error(field, _("Give a rating from 1 to 5."), "rating")
    return number


def survey_answer(
    *,
    survey: Survey,
    household: Household,
    actor: Any,
    overall: Any,
    cleaning: Any = None,
    security: Any = None,
    repairs: Any = None,
    green_spaces: Any = None,
    parking: Any = None,
    comment: str = "",
    now: dt.datetime,
    on_behalf: bool = False,
) -> SurveyResponse:
    """Record a household's answer: by one of its residents on the portal, or entered on
    its behalf by the grid worker of its building (or community staff)."""
    ratings: dict[str, int | None] = {"overall": _rating(overall, field="overall", required=True)}
    given = {
        "cleaning": cleaning,
        "security": security,
        "repairs": repairs,
        "green_spaces": green_spaces,
        "parking": parking,
    }
    for area in AREAS:
        ratings[area] = _rating(given[area], field=area, required=False)

    place = (
        Household.objects.filter(pk=household.pk)
        .values("unit__building_id", "unit__building__estate_id", "unit__building__grid_id")
        .get()
    )
    building_id = place["unit__building_id"]
    estate_id = place["unit__building__estate_id"]
    grid_id = place["unit__building__grid_id"]

    respondent: Resident | None = None
    if on_behalf:
        # A household without a phone (often an elderly one) answers through its grid
        # worker, who enters it and is recorded as having done so.
        is_grid_worker = grid_id is not None and (
            Membership.objects.filter(
                user=actor, is_active=True, role=Role.GRID_WORKER, grid_id=grid_id
            ).exists()
        )
        if not (is_grid_worker or is_community_staff(actor, survey.community_id)):
            raise PermissionDenied(
                _("Only the household's grid worker or community staff may answer for it.")
            )
        channel = SurveyResponse.Channel.ON_BEHALF
    else:
        if actor is None or not actor.is_authenticated:
            raise PermissionDenied(_("Only a resident of the household may answer for it."))
        respondent = (
            Resident.objects.filter(
                user_id=actor.pk,
                household=household,
                status=Resident.Status.ACTIVE,
            )
            .order_by("pk")
            .first()
        )
        if respondent is None:
            raise PermissionDenied(_("Only a resident of the household may answer for it."))
        channel = SurveyResponse.Channel.PORTAL

    already = _("This household has already answered this survey.")
    try:
        with transaction.atomic(durable=True):
            # Read in the transaction: a survey closed a moment ago takes no answer. A close
            # committing while this insert runs may still let this one answer in: it was
            # given while the survey was open.
            current = Survey.objects.filter(pk=survey.pk).values_list("status", flat=True).get()
            if current != Status.OPEN:
                raise ValidationError(_("This survey is not open for answers."), code="closed")
            if not survey.estates.filter(pk=estate_id).exists():
                raise ValidationError(
                    _("This household is not among the survey's estates."), code="household"
                )
            response = SurveyResponse(
                survey=survey,
                household=household,
                building_id=building_id,
                estate_id=estate_id,
                respondent=respondent,
                channel=channel,
                entered_by=actor,
                comment=comment.strip(),
                created_at=now,
                **ratings,
            )
            response.save(force_insert=True)
    except IntegrityError:
        # The unique index let the other submission through (a household member, or the
        # grid worker, a moment earlier). Anything else is not ours to hide.
        if SurveyResponse.objects.filter(survey=survey, household=household).exists():
            raise ValidationError(already, code="answered") from None
        raise
    return response
