"""/api/v1/property/ for satisfaction surveys, scorecards and the black list: the open
surveys of my household and answering one (on the portal, or by a grid worker for a
household without a phone), a survey's results (staff, the street, the rated company);
a period's scorecards computed and published, the published ones; the public black list,
the office's confirm / dismiss / remove and the provider's response.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from community.models import Community, Household, Organization
from config.api_fields import ChoiceLabelField, refusal
from property_mgmt.api.common import (
    NOT_IN_SCOPE,
    NOT_YOURS,
    PAGING,
    REFUSED,
    BlacklistStatusField,
    PropertyRefusalSerializer,
    SurveyStatusField,
    bad_query,
    int_param,
    paged_schema,
    paginate,
)
from property_mgmt.models import BlacklistEntry, Survey
from property_mgmt.models.surveys import AREAS
from property_mgmt.selectors import api_pages as selectors
from property_mgmt.selectors.scorecards import public_blacklist, scorecards_compute_all
from property_mgmt.selectors.surveys import (
    ResultRow,
    is_community_staff,
    open_surveys_for,
    survey_results,
)
from property_mgmt.services.scorecards import (
    blacklist_confirm,
    blacklist_dismiss,
    blacklist_remove,
    blacklist_respond,
    scorecard_publish,
)
from property_mgmt.services.surveys import survey_answer


def community_of(request: Request, pk: int | None) -> Community:
    """The community if the caller lives, works or serves in it; else 404."""
    if pk is None:
        raise Http404
    try:
        return selectors.community_for(user=request.user, pk=pk)
    except Community.DoesNotExist:
        raise Http404 from None


def _period(request: Request) -> tuple[dt.date, dt.date] | Response:
    try:
        start = dt.date.fromisoformat(request.query_params.get("period_start", ""))
        end = dt.date.fromisoformat(request.query_params.get("period_end", ""))
    except ValueError:
        return bad_query(_("Give the period as YYYY-MM-DD dates."), "period_start")
    return start, end


# --- output ----------------------------------------------------------------------------------


class OpenSurveyOutput(serializers.Serializer):
    survey = serializers.IntegerField(source="survey.pk")
    title = serializers.CharField(source="survey.title")
    provider = serializers.IntegerField(source="survey.provider_id")
    provider_name = serializers.CharField(source="survey.provider.name")
    period_start = serializers.DateField(source="survey.period_start")
    period_end = serializers.DateField(source="survey.period_end")
    household = serializers.IntegerField(source="household_id")
    answered = serializers.BooleanField()


class SurveyAnswerOutput(serializers.Serializer):
    id = serializers.IntegerField()
    survey = serializers.IntegerField(source="survey_id")
    household = serializers.IntegerField(source="household_id")
    channel = serializers.CharField()
    overall = serializers.IntegerField()
    cleaning = serializers.IntegerField(allow_null=True)
    security = serializers.IntegerField(allow_null=True)
    repairs = serializers.IntegerField(allow_null=True)
    green_spaces = serializers.IntegerField(allow_null=True)
    parking = serializers.IntegerField(allow_null=True)
    comment = serializers.CharField()
    created_at = serializers.DateTimeField()


class SurveyResultRowOutput(serializers.Serializer):
    key = serializers.IntegerField(allow_null=True, help_text="estate or building id")
    label = serializers.CharField()  # type: ignore[assignment]
    households = serializers.IntegerField()
    answers = serializers.IntegerField()
    response_rate = serializers.DecimalField(max_digits=5, decimal_places=4, allow_null=True)
    overall = serializers.DecimalField(max_digits=3, decimal_places=2, allow_null=True)
    areas = serializers.DictField(
        child=serializers.DecimalField(max_digits=3, decimal_places=2, allow_null=True),
        help_text="average per service area: " + ", ".join(AREAS),
    )


class SurveyResultsOutput(serializers.Serializer):
    survey = serializers.IntegerField(source="survey.pk")
    title = serializers.CharField(source="survey.title")
    status = SurveyStatusField(source="survey.status")
    status_label = ChoiceLabelField(Survey.Status, source="survey.status")
    total = SurveyResultRowOutput()
    by_estate = SurveyResultRowOutput(many=True)
    by_building = SurveyResultRowOutput(many=True)


class ScorecardFiguresOutput(serializers.Serializer):
    provider = serializers.IntegerField(source="provider_id")
    provider_name = serializers.CharField()
    households = serializers.IntegerField()
    satisfaction = serializers.DecimalField(max_digits=3, decimal_places=2, allow_null=True)
    survey_answers = serializers.IntegerField()
    on_time_rate = serializers.DecimalField(max_digits=5, decimal_places=4, allow_null=True)
    reopen_rate = serializers.DecimalField(max_digits=5, decimal_places=4, allow_null=True)
    complaints = serializers.IntegerField()
    complaints_per_1000 = serializers.DecimalField(max_digits=8, decimal_places=2, allow_null=True)
    collection_rate = serializers.DecimalField(max_digits=5, decimal_places=4, allow_null=True)


class ScorecardOutput(ScorecardFiguresOutput):
    id = serializers.IntegerField()
    provider_name = serializers.CharField(source="provider.name")
    community = serializers.IntegerField(source="community_id")
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    published_at = serializers.DateTimeField()


class BlacklistBoardRowOutput(serializers.Serializer):
    entry = serializers.IntegerField(source="entry_id")
    provider_name = serializers.CharField()
    reasons = serializers.ListField(child=serializers.CharField())
    listed_at = serializers.DateTimeField()
    response = serializers.CharField()
    responded_at = serializers.DateTimeField(allow_null=True)


class BlacklistEntryOutput(serializers.Serializer):
    id = serializers.IntegerField()
    community = serializers.IntegerField(source="community_id")
    provider = serializers.IntegerField(source="provider_id")
    provider_name = serializers.CharField(source="provider.name")
    status = BlacklistStatusField()
    status_label = ChoiceLabelField(BlacklistEntry.Status, source="status")
    reasons = serializers.CharField()
    evidence = serializers.CharField()
    proposed_at = serializers.DateTimeField()
    listed_at = serializers.DateTimeField(allow_null=True)
    response = serializers.CharField()
    responded_at = serializers.DateTimeField(allow_null=True)
    closed_at = serializers.DateTimeField(allow_null=True)
    close_reason = serializers.CharField()


def _row(row: ResultRow) -> dict[str, Any]:
    return {
        "key": row.key,
        "label": row.label,
        "households": row.households,
        "answers": row.answers,
        "response_rate": row.response_rate,
        "overall": row.overall,
        "areas": row.areas,
    }


# --- surveys ---------------------------------------------------------------------------------


class OpenSurveysApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="property_surveys_open",
        responses=OpenSurveyOutput(many=True),
        description="The open surveys of my household, unanswered first.",
    )
    def get(self, request: Request) -> Response:
        return Response(OpenSurveyOutput(open_surveys_for(user=request.user), many=True).data)


class SurveyAnswerApi(APIView):
    permission_classes = [IsAuthenticated]

    class InputSerializer(serializers.Serializer):
        household = serializers.IntegerField(
            min_value=1, required=False, help_text="default: my household"
        )
        on_behalf = serializers.BooleanField(
            default=False, help_text="a grid worker enters the answer of a household"
        )
        # The ranges are the service's to judge, so the refusal names the rule in words.
        overall = serializers.IntegerField(help_text="1–5")
        cleaning = serializers.IntegerField(required=False, allow_null=True, help_text="1–5")
        security = serializers.IntegerField(required=False, allow_null=True, help_text="1–5")
        repairs = serializers.IntegerField(required=False, allow_null=True, help_text="1–5")
        green_spaces = serializers.IntegerField(required=False, allow_null=True, help_text="1–5")
        parking = serializers.IntegerField(required=False, allow_null=True, help_text="1–5")
        comment = serializers.CharField(required=False, allow_blank=True, default="")

    @extend_schema(
        operation_id="property_surveys_answer",
        request=InputSerializer,
        responses={201: SurveyAnswerOutput, 400: REFUSED, 403: NOT_YOURS, 404: NOT_IN_SCOPE},
        description="Answer a survey for my household (once per household), or, as its grid "
        "worker, for a household without a phone (`on_behalf`).",
    )
    def post(self, request: Request, pk: int) -> Response:
        try:
            survey = selectors.survey_for(user=request.user, pk=pk)
        except Survey.DoesNotExist:
            raise Http404 from None
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        household_id = fields.pop("household", None)
        if household_id is None:
            mine = selectors.my_household_ids(user=request.user)
            if len(mine) != 1:
                return bad_query(_("Say which household answers."), "household")
            household_id = mine[0]
        try:
            household = selectors.household_for(user=request.user, pk=household_id)
        except Household.DoesNotExist:
            raise Http404 from None
        try:
            answer = survey_answer(
                survey=survey,
                household=household,
                actor=request.user,
                now=timezone.now(),
                **fields,
            )
        except (ValidationError, PermissionDenied) as exc:
            return refusal(exc)
        return Response(SurveyAnswerOutput(answer).data, status=status.HTTP_201_CREATED)


class SurveyResultsApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="property_surveys_results",
        responses={200: SurveyResultsOutput, 404: NOT_IN_SCOPE},
        description="A survey's results: in total, per estate and per building, with the "
        "response rate (community staff, the street, the rated company's staff).",
    )
    def get(self, request: Request, pk: int) -> Response:
        try:
            survey = selectors.survey_results_for(user=request.user, pk=pk)
        except Survey.DoesNotExist:
            raise Http404 from None
        results = survey_results(user=request.user, survey=survey)
        body = {
            "survey": results.survey,
            "total": _row(results.total),
            "by_estate": [_row(r) for r in results.by_estate],
            "by_building": [_row(r) for r in results.by_building],
        }
        return Response(SurveyResultsOutput(body).data)


# --- scorecards ------------------------------------------------------------------------------

PERIOD_PARAMS = [
    OpenApiParameter("community", int, required=True),
    OpenApiParameter("period_start", str, required=True, description="YYYY-MM-DD"),
    OpenApiParameter("period_end", str, required=True, description="YYYY-MM-DD"),
]


class ScorecardComputeApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="property_scorecards_compute",
        parameters=PERIOD_PARAMS,
        responses={
            200: ScorecardFiguresOutput(many=True),
            400: PropertyRefusalSerializer,
            403: NOT_YOURS,
            404: NOT_IN_SCOPE,
        },
        description="The figures of every provider serving the community in the period, as "
        "they would be published (community staff).",
    )
    def get(self, request: Request) -> Response:
        community = community_of(request, int_param(request, "community"))
        if not is_community_staff(request.user, community.pk):
            return refusal(PermissionDenied(_("Only community staff may compute scorecards.")))
        period = _period(request)
        if isinstance(period, Response):
            return period
        figures = scorecards_compute_all(
            community=community, period_start=period[0], period_end=period[1], now=timezone.now()
        )
        return Response(ScorecardFiguresOutput(figures, many=True).data)


class ScorecardListPublishApi(APIView):
    permission_classes = [IsAuthenticated]

    class InputSerializer(serializers.Serializer):
        community = serializers.IntegerField(min_value=1)
        provider = serializers.PrimaryKeyRelatedField(
            queryset=Organization.objects.filter(kind=Organization.Kind.PROPERTY_COMPANY)
        )
        period_start = serializers.DateField()
        period_end = serializers.DateField()

    @extend_schema(
        operation_id="property_scorecards_list",
        parameters=[OpenApiParameter("community", int, required=True), *PAGING],
        responses={
            200: paged_schema("PropertyScorecards", ScorecardOutput(many=True)),
            404: NOT_IN_SCOPE,
        },
        description="The community's published scorecards, newest period first.",
    )
    def get(self, request: Request) -> Response:
        community = community_of(request, int_param(request, "community"))
        rows = selectors.scorecards_published(community=community)
        return paginate(self, request, rows, ScorecardOutput)

    @extend_schema(
        operation_id="property_scorecards_publish",
        request=InputSerializer,
        responses={201: ScorecardOutput, 400: REFUSED, 403: NOT_YOURS, 404: NOT_IN_SCOPE},
        description="Publish a provider's scorecard for a period (community staff); the "
        "black-list rules it breaks propose the provider for the black list.",
    )
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        community = community_of(request, fields.pop("community"))
        try:
            scorecard = scorecard_publish(
                actor=request.user, community=community, now=timezone.now(), **fields
            )
        except (ValidationError, PermissionDenied) as exc:
            return refusal(exc)
        return Response(ScorecardOutput(scorecard).data, status=status.HTTP_201_CREATED)


# --- the black list --------------------------------------------------------------------------


class BlacklistBoardApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="property_blacklist_board",
        parameters=[OpenApiParameter("community", int, required=True)],
        responses={200: BlacklistBoardRowOutput(many=True), 404: NOT_IN_SCOPE},
        description="The community's public black list (挂黑榜): who, why, since when, and "
        "what the company answered.",
    )
    def get(self, request: Request) -> Response:
        community = community_of(request, int_param(request, "community"))
        return Response(
            BlacklistBoardRowOutput(public_blacklist(community=community), many=True).data
        )


class EntryActionApi(APIView):
    """One decision on a black-list entry: a text in, the entry out."""

    permission_classes = [IsAuthenticated]
    text_field = "reason"

    def act(self, entry: BlacklistEntry, actor: Any, text: str) -> BlacklistEntry:
        raise NotImplementedError

    def post(self, request: Request, pk: int) -> Response:
        try:
            entry = selectors.blacklist_entry_for(user=request.user, pk=pk)
        except BlacklistEntry.DoesNotExist:
            raise Http404 from None
        form: Any = request.data
        text = form.get(self.text_field, "")
        if not isinstance(text, str):
            return bad_query(_("Enter a text."), self.text_field)
        try:
            entry = self.act(entry, request.user, text)
        except (ValidationError, PermissionDenied) as exc:
            return refusal(exc)
        return Response(BlacklistEntryOutput(entry).data)


ENTRY_RESPONSES = {200: BlacklistEntryOutput, 400: REFUSED, 403: NOT_YOURS, 404: NOT_IN_SCOPE}


def _text_request(name: str, field: str, help_text: str) -> Any:
    return inline_serializer(
        name=name, fields={field: serializers.CharField(required=False, help_text=help_text)}
    )


class BlacklistConfirmApi(EntryActionApi):
    text_field = "evidence"

    def act(self, entry: BlacklistEntry, actor: Any, text: str) -> BlacklistEntry:
        return blacklist_confirm(entry=entry, actor=actor, evidence=text, now=timezone.now())

    @extend_schema(
        operation_id="property_blacklist_confirm",
        request=_text_request("BlacklistConfirm", "evidence", "required"),
        responses=ENTRY_RESPONSES,
        description="Put a proposed provider on the black list, with evidence (community "
        "staff); the company's staff are notified.",
    )
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)


class BlacklistDismissApi(EntryActionApi):
    def act(self, entry: BlacklistEntry, actor: Any, text: str) -> BlacklistEntry:
        return blacklist_dismiss(entry=entry, actor=actor, reason=text, now=timezone.now())

    @extend_schema(
        operation_id="property_blacklist_dismiss",
        request=_text_request("BlacklistDismiss", "reason", "optional"),
        responses=ENTRY_RESPONSES,
        description="Decide a proposed entry does not warrant the black list (community staff).",
    )
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)


class BlacklistRemoveApi(EntryActionApi):
    def act(self, entry: BlacklistEntry, actor: Any, text: str) -> BlacklistEntry:
        return blacklist_remove(entry=entry, actor=actor, reason=text, now=timezone.now())

    @extend_schema(
        operation_id="property_blacklist_remove",
        request=_text_request("BlacklistRemove", "reason", "required"),
        responses=ENTRY_RESPONSES,
        description="Take a provider off the black list, saying why (community staff).",
    )
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)


class BlacklistRespondApi(EntryActionApi):
    text_field = "response"

    def act(self, entry: BlacklistEntry, actor: Any, text: str) -> BlacklistEntry:
        return blacklist_respond(entry=entry, actor=actor, response=text, now=timezone.now())

    @extend_schema(
        operation_id="property_blacklist_respond",
        request=_text_request("BlacklistRespond", "response", "required"),
        responses=ENTRY_RESPONSES,
        description="The listed company's staff answer the listing (shown on the board).",
    )
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)
