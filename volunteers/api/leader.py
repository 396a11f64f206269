"""/api/v1/volunteers/ for whoever runs an activity (its team's leader, or community staff):
the activities I run, an activity's roster, checking people in and out, no-shows,
correcting and confirming hours; and the community's statistics for its staff.

An activity the caller may not see at all is 404; one they may see as a volunteer but do
not run is 403 (a resident cannot read the roster nor confirm their own hours).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from community.models import Community
from config.api_fields import refusal
from volunteers.api.activities import ROW_RELATED
from volunteers.api.common import (
    NOT_IN_SCOPE,
    NOT_YOURS,
    AttendanceOutput,
    ManagedActivityOutput,
    RosterRowOutput,
    VolunteerRefusalSerializer,
    not_yours,
)
from volunteers.models import Activity, Attendance, SignUp
from volunteers.selectors import pages as selectors
from volunteers.selectors.stats import headcount, hours_statistics
from volunteers.services import (
    attendance_check_in,
    attendance_check_out,
    attendance_confirm,
    attendance_correct,
    attendance_no_show,
)

MAX_PK = 2**63 - 1

ACTION_RESPONSES = {
    200: AttendanceOutput,
    400: VolunteerRefusalSerializer,
    403: NOT_YOURS,
    404: NOT_IN_SCOPE,
}


def managed_or_refusal(request: Request, pk: int) -> Activity | Response:
    """The activity if the caller runs it; 403 if they only see it as a volunteer; else 404."""
    activity = selectors.managed_activity(user=request.user, pk=pk)
    if activity is not None:
        return activity
    if selectors.volunteer_activity(user=request.user, pk=pk) is not None:
        return not_yours()
    raise Http404


class ManagedActivitiesApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="volunteers_activities_managed",
        responses=ManagedActivityOutput(many=True),
        description="Activities I run (team leader or community staff), from a week ago "
        "on, soonest first (at most 50), with the link of each one's QR code.",
    )
    def get(self, request: Request) -> Response:
        rows = selectors.managed_activities(user=request.user, now=timezone.now())
        return Response(
            ManagedActivityOutput(
                rows.select_related(*ROW_RELATED), many=True, context={"request": request}
            ).data
        )


class RosterApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="volunteers_activities_roster",
        responses={200: RosterRowOutput(many=True), 403: NOT_YOURS, 404: NOT_IN_SCOPE},
        description="The activity's sign-ups, places first then the waiting list in "
        "order, each with its attendance; phones masked.",
    )
    def get(self, request: Request, pk: int) -> Response:
        activity = managed_or_refusal(request, pk)
        if isinstance(activity, Response):
            return activity
        rows = selectors.activity_roster(user=request.user, activity=activity)
        return Response(RosterRowOutput(rows, many=True).data)


class RosterActionApi(APIView):
    """A POST on one sign-up of the roster: one service call, answered with the attendance."""

    permission_classes = [IsAuthenticated]

    def act(self, *, activity: Activity, signup: SignUp, actor: Any, now: dt.datetime) -> Any:
        raise NotImplementedError

    def post(self, request: Request, pk: int, signup_id: int) -> Response:
        activity = managed_or_refusal(request, pk)
        if isinstance(activity, Response):
            return activity
        signup = selectors.managed_signup(user=request.user, activity=activity, pk=signup_id)
        if signup is None:
            raise Http404
        try:
            attendance = self.act(
                activity=activity, signup=signup, actor=request.user, now=timezone.now()
            )
        except (ValidationError, PermissionDenied) as exc:
            return refusal(exc)
        return Response(AttendanceOutput(attendance).data)


class RosterCheckInApi(RosterActionApi):
    def act(self, *, activity: Activity, signup: SignUp, actor: Any, now: dt.datetime) -> Any:
        return attendance_check_in(activity=activity, user=signup.user, now=now, actor=actor)

    @extend_schema(
        operation_id="volunteers_roster_check_in",
        request=None,
        responses=ACTION_RESPONSES,
        description="Check a signed-up volunteer in (someone without a phone).",
    )
    def post(self, request: Request, pk: int, signup_id: int) -> Response:
        return super().post(request, pk, signup_id)


class RosterCheckOutApi(RosterActionApi):
    def act(self, *, activity: Activity, signup: SignUp, actor: Any, now: dt.datetime) -> Any:
        return attendance_check_out(activity=activity, user=signup.user, now=now, actor=actor)

    @extend_schema(
        operation_id="volunteers_roster_check_out",
        request=None,
        responses=ACTION_RESPONSES,
        description="Check a volunteer out; their hours are computed.",
    )
    def post(self, request: Request, pk: int, signup_id: int) -> Response:
        return super().post(request, pk, signup_id)


class RosterNoShowApi(RosterActionApi):
    def act(self, *, activity: Activity, signup: SignUp, actor: Any, now: dt.datetime) -> Any:
        return attendance_no_show(signup=signup, actor=actor, now=now)

    @extend_schema(
        operation_id="volunteers_roster_no_show",
        request=None,
        responses=ACTION_RESPONSES,
        description="After the activity: record that a signed-up volunteer did not come. "
        "Too many no-shows block sign-up until staff lift it.",
    )
    def post(self, request: Request, pk: int, signup_id: int) -> Response:
        return super().post(request, pk, signup_id)


class AttendanceActionApi(APIView):
    """A POST on one attendance of the activity: one service call, answered with it."""

    permission_classes = [IsAuthenticated]
    InputSerializer: type[serializers.Serializer] = serializers.Serializer

    def act(
        self, *, attendance: Attendance, actor: Any, data: dict[str, Any], now: dt.datetime
    ) -> Attendance:
        raise NotImplementedError

    def post(self, request: Request, pk: int, attendance_id: int) -> Response:
        activity = managed_or_refusal(request, pk)
        if isinstance(activity, Response):
            return activity
        attendance = selectors.managed_attendance(
            user=request.user, activity=activity, pk=attendance_id
        )
        if attendance is None:
            raise Http404
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            done = self.act(
                attendance=attendance,
                actor=request.user,
                data=dict(data.validated_data),
                now=timezone.now(),
            )
        except (ValidationError, PermissionDenied) as exc:
            return refusal(exc)
        return Response(AttendanceOutput(done).data)


class AttendanceCorrectApi(AttendanceActionApi):
    class InputSerializer(serializers.Serializer):
        hours = serializers.DecimalField(max_digits=5, decimal_places=2)

    def act(
        self, *, attendance: Attendance, actor: Any, data: dict[str, Any], now: dt.datetime
    ) -> Attendance:
        return attendance_correct(attendance=attendance, hours=data["hours"], actor=actor, now=now)

    @extend_schema(
        operation_id="volunteers_attendances_correct",
        request=InputSerializer,
        responses=ACTION_RESPONSES,
        description="Correct the hours before they are confirmed (not one's own).",
    )
    def post(self, request: Request, pk: int, attendance_id: int) -> Response:
        return super().post(request, pk, attendance_id)


class AttendanceConfirmApi(AttendanceActionApi):
    def act(
        self, *, attendance: Attendance, actor: Any, data: dict[str, Any], now: dt.datetime
    ) -> Attendance:
        return attendance_confirm(attendance=attendance, actor=actor, now=now)

    @extend_schema(
        operation_id="volunteers_attendances_confirm",
        request=None,
        responses=ACTION_RESPONSES,
        description="Confirm a finished attendance's hours as the second person (never "
        "one's own): the volunteer gets the per-hour points, once.",
    )
    def post(self, request: Request, pk: int, attendance_id: int) -> Response:
        return super().post(request, pk, attendance_id)


class HoursBucketOutput(serializers.Serializer):
    name = serializers.CharField(help_text="empty: no team (or no post)")
    hours = serializers.DecimalField(max_digits=12, decimal_places=2)
    attendances = serializers.IntegerField()


class MonthBucketOutput(serializers.Serializer):
    month = serializers.IntegerField(min_value=1, max_value=12)
    hours = serializers.DecimalField(max_digits=12, decimal_places=2)
    attendances = serializers.IntegerField()


class HeadcountOutput(serializers.Serializer):
    teams = serializers.IntegerField()
    members = serializers.IntegerField(help_text="distinct people on a team's roster now")
    active = serializers.IntegerField(
        help_text="distinct volunteers with confirmed hours in the last 90 days"
    )
    party_members = serializers.IntegerField(help_text="confirmed registrations (下沉党员)")


class StatsApi(APIView):
    permission_classes = [IsAuthenticated]

    class FilterSerializer(serializers.Serializer):
        community = serializers.IntegerField(min_value=1, max_value=MAX_PK)
        year = serializers.IntegerField(
            required=False, min_value=2000, max_value=2100, help_text="default: this year"
        )

    class OutputSerializer(serializers.Serializer):
        community = serializers.IntegerField()
        year = serializers.IntegerField()
        headcount = HeadcountOutput()
        total_hours = serializers.DecimalField(max_digits=12, decimal_places=2)
        total_attendances = serializers.IntegerField()
        by_team = HoursBucketOutput(many=True)
        by_post = HoursBucketOutput(many=True)
        by_month = MonthBucketOutput(many=True, help_text="all twelve months in order")

    @extend_schema(
        operation_id="volunteers_stats",
        parameters=[FilterSerializer],
        responses={200: OutputSerializer, 404: OpenApiResponse(description="not your community")},
        description="Community staff: headcount, active members and the year's confirmed "
        "hours per team, per post and per month (by the activity's start, Beijing time).",
    )
    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        now = timezone.now()
        year = filters.validated_data.get("year") or timezone.localtime(now).year
        community = Community.objects.filter(pk=filters.validated_data["community"]).first()
        if community is None:
            raise Http404
        stats = hours_statistics(user=request.user, community=community, year=year)
        if stats is None:  # not staff of this community
            raise Http404
        people = headcount(user=request.user, community=community, now=now)
        if people is None:  # pragma: no cover - the same check as hours_statistics
            raise Http404
        data = {
            "community": community.pk,
            "year": year,
            "headcount": people,
            "total_hours": stats.total_hours,
            "total_attendances": stats.total_attendances,
            "by_team": [{"name": n, "hours": h, "attendances": c} for n, h, c in stats.by_team],
            "by_post": [{"name": n, "hours": h, "attendances": c} for n, h, c in stats.by_post],
            "by_month": [{"month": m, "hours": h, "attendances": c} for m, h, c in stats.by_month],
        }
        return Response(self.OutputSerializer(data).data)
