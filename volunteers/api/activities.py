"""/api/v1/volunteers/ for the volunteer's phone: upcoming activities, sign up or cancel,
my shifts, check in and out with the activity's QR code, my hours; and planning a new
activity (staff, or a team's leader for their own team).

Every read goes through the volunteers selectors (an activity of a community the caller
neither lives nor serves in is 404, like an unknown id) and every write is one service
call whose refusal is answered as `common.refusal` says.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import F
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.pagination import CursorPagination, LimitOffsetPagination
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from community.models import Community
from config.api_fields import refusal
from credit.selectors.history import my_balance
from volunteers.api.common import (
    NOT_IN_SCOPE,
    ActivityDetailOutput,
    ActivityKindField,
    AttendanceOutput,
    ManagedActivityOutput,
    MyAttendanceOutput,
    SignUpOutput,
    UpcomingActivityOutput,
    VolunteerRefusalSerializer,
)
from volunteers.models import Activity, Post, Team
from volunteers.selectors import pages as selectors
from volunteers.selectors import user_signups
from volunteers.services import (
    activity_signup,
    attendance_check_in,
    attendance_check_out,
    signup_cancel,
)
from volunteers.services.activities import activity_create
from volunteers.views.checkin import checkin_token_valid

#: The team and post names every activity row shows, joined into the selector's query.
ROW_RELATED = ("team", "post")
#: The columns a row of the upcoming list shows (UpcomingActivityOutput): not the
#: activity's notes, a long text a phone list never shows. The team's and post's names
#: come as columns of the row (`team_name`, `post_name`), not as objects.
UPCOMING_COLUMNS = (
    "community_id",
    "title",
    "kind",
    "place",
    "starts_at",
    "ends_at",
    "team_id",
    "post_id",
    "audience",
    "capacity",
    "signed_up_count",
    "signup_open",
)


def visible_activity(request: Request, pk: int) -> Activity:
    """The activity if the caller may see it as a volunteer; else 404."""
    activity = selectors.volunteer_activity(user=request.user, pk=pk)
    if activity is None:
        raise Http404
    return activity


class ActivityListCreateApi(APIView):
    permission_classes = [IsAuthenticated]

    class InputSerializer(serializers.Serializer):
        community = serializers.PrimaryKeyRelatedField(queryset=Community.objects.all())
        title = serializers.CharField(max_length=200)
        kind = ActivityKindField()
        place = serializers.CharField(max_length=200)
        starts_at = serializers.DateTimeField()
        ends_at = serializers.DateTimeField()
        capacity = serializers.IntegerField(max_value=10_000)
        team = serializers.PrimaryKeyRelatedField(
            queryset=Team.objects.all(), required=False, allow_null=True
        )
        post = serializers.PrimaryKeyRelatedField(
            queryset=Post.objects.all(), required=False, allow_null=True
        )
        audience = serializers.ChoiceField(
            choices=Activity.Audience.choices, default=Activity.Audience.OPEN
        )
        signup_open = serializers.BooleanField(default=True)

    @extend_schema(
        operation_id="volunteers_activities_list",
        parameters=[OpenApiParameter("cursor", str), OpenApiParameter("page_size", int)],
        responses=inline_serializer(
            name="UpcomingActivities",
            fields={
                "next": serializers.URLField(allow_null=True),
                "previous": serializers.URLField(allow_null=True),
                "results": UpcomingActivityOutput(many=True),
            },
        ),
        description="Activities of my communities not started yet and open for sign-up, "
        "soonest first, with places left, the waiting list's length and my own sign-up; "
        "in pages of 20 (`page_size` up to 50), `next` and `previous` links with a cursor.",
    )
    def get(self, request: Request) -> Response:
        paginator = UpcomingPagination()
        rows = selectors.upcoming_activities(user=request.user, now=timezone.now(), limit=None)
        rows = rows.only(*UPCOMING_COLUMNS).annotate(
            team_name=F("team__name"), post_name=F("post__name")
        )
        page = paginator.paginate_queryset(rows, request, self)
        return paginator.get_paginated_response(UpcomingActivityOutput(page or [], many=True).data)

    @extend_schema(
        operation_id="volunteers_activities_create",
        request=InputSerializer,
        responses={
            201: ManagedActivityOutput,
            400: VolunteerRefusalSerializer,
            403: OpenApiResponse(
                VolunteerRefusalSerializer,
                description="not staff of the community, nor the leader of the team",
            ),
        },
        description="Plan an activity: community staff for any team, a team's leader for "
        "their own team.",
    )
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            activity = activity_create(
                actor=request.user, now=timezone.now(), **data.validated_data
            )
        except (ValidationError, PermissionDenied) as exc:
            return refusal(exc)
        return Response(
            ManagedActivityOutput(activity, context={"request": request}).data,
            status=status.HTTP_201_CREATED,
        )


class ActivityDetailApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="volunteers_activities_retrieve",
        responses={200: ActivityDetailOutput, 404: NOT_IN_SCOPE},
    )
    def get(self, request: Request, pk: int) -> Response:
        activity = visible_activity(request, pk)
        context = {
            "my_signup": user_signups(user=request.user).filter(activity=activity).first(),
            "waiting_count": selectors.waiting_count(activity=activity),
        }
        return Response(ActivityDetailOutput(activity, context=context).data)


class SignUpApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="volunteers_activities_sign_up",
        request=None,
        responses={
            201: SignUpOutput,
            200: OpenApiResponse(SignUpOutput, description="already signed up: that sign-up"),
            400: VolunteerRefusalSerializer,
            403: OpenApiResponse(
                VolunteerRefusalSerializer,
                description="not in the activity's audience, or blocked after no-shows",
            ),
            404: NOT_IN_SCOPE,
        },
        description="Sign me up; when the activity is full, onto the waiting list "
        "(`status` waiting, `position`). Signing up again answers the sign-up I have.",
    )
    def post(self, request: Request, pk: int) -> Response:
        activity = visible_activity(request, pk)
        now = timezone.now()
        try:
            signup = activity_signup(activity=activity, user=request.user, now=now)
        except (ValidationError, PermissionDenied) as exc:
            return refusal(exc)
        created = signup.created_at == now  # else the active sign-up they already had
        return Response(
            SignUpOutput(signup).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class MySignUpsApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="volunteers_signups_list",
        responses=SignUpOutput(many=True),
        description="My shifts: my active sign-ups (places and waiting list) of activities "
        "not ended yet, soonest first.",
    )
    def get(self, request: Request) -> Response:
        rows = user_signups(user=request.user).filter(activity__ends_at__gte=timezone.now())
        return Response(SignUpOutput(rows, many=True).data)


class SignUpCancelApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="volunteers_signups_cancel",
        request=None,
        responses={
            200: SignUpOutput,
            400: VolunteerRefusalSerializer,
            404: OpenApiResponse(description="not my sign-up"),
        },
        description="Cancel my sign-up before the activity starts; the first on the "
        "waiting list takes the freed place.",
    )
    def post(self, request: Request, pk: int) -> Response:
        mine = selectors.own_signup(user=request.user, pk=pk)
        if mine is None:
            raise Http404
        try:
            signup_cancel(signup=mine, actor=request.user, now=timezone.now())
        except (ValidationError, PermissionDenied) as exc:
            return refusal(exc)
        return Response(SignUpOutput(mine).data)


class SelfCheckApi(APIView):
    """Check myself in or out with the token of the activity's QR code."""

    permission_classes = [IsAuthenticated]
    direction = "in"

    class InputSerializer(serializers.Serializer):
        token = serializers.CharField(
            max_length=200, help_text="the last part of the link the activity's QR code opens"
        )

    def post(self, request: Request, pk: int) -> Response:
        activity = visible_activity(request, pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if not checkin_token_valid(pk, data.validated_data["token"]):
            return Response(
                {"detail": _("This is not the check-in code of this activity."), "code": "token"},
                status=status.HTTP_403_FORBIDDEN,
            )
        check = attendance_check_out if self.direction == "out" else attendance_check_in
        try:
            attendance = check(activity=activity, user=request.user, now=timezone.now())
        except (ValidationError, PermissionDenied) as exc:
            return refusal(exc)
        return Response(AttendanceOutput(attendance).data)


SELF_CHECK_RESPONSES = {
    200: AttendanceOutput,
    400: VolunteerRefusalSerializer,
    403: OpenApiResponse(VolunteerRefusalSerializer, description="not the activity's QR code"),
    404: NOT_IN_SCOPE,
}


class CheckInApi(SelfCheckApi):
    direction = "in"

    @extend_schema(
        operation_id="volunteers_activities_check_in",
        request=SelfCheckApi.InputSerializer,
        responses=SELF_CHECK_RESPONSES,
        description="Check in (from shortly before the start until the end) with the "
        "token of the activity's QR code. Checking in twice keeps the first time.",
    )
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)


class CheckOutApi(SelfCheckApi):
    direction = "out"

    @extend_schema(
        operation_id="volunteers_activities_check_out",
        request=SelfCheckApi.InputSerializer,
        responses=SELF_CHECK_RESPONSES,
        description="Check out (until shortly after the end): the hours are computed and "
        "wait for the leader's confirmation.",
    )
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)


class UpcomingPagination(CursorPagination):
    """Cursor pages, soonest first: no COUNT(*), stable while activities are planned."""

    ordering = ("starts_at", "id")
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = selectors.UPCOMING_LIMIT


class MyHoursPagination(LimitOffsetPagination):
    default_limit = 10
    max_limit = 50


class MyHoursApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="volunteers_hours",
        parameters=[OpenApiParameter("limit", int), OpenApiParameter("offset", int)],
        responses=inline_serializer(
            name="MyHours",
            fields={
                "confirmed_hours": serializers.DecimalField(max_digits=9, decimal_places=2),
                "points_balance": serializers.IntegerField(
                    allow_null=True, help_text="null: no points account (not a resident)"
                ),
                "count": serializers.IntegerField(),
                "next": serializers.URLField(allow_null=True),
                "previous": serializers.URLField(allow_null=True),
                "results": MyAttendanceOutput(many=True),
            },
        ),
        description="My confirmed hours in total, my points, and all my attendances "
        "(newest activity first), paged with `limit` and `offset`.",
    )
    def get(self, request: Request) -> Response:
        paginator = MyHoursPagination()
        rows = selectors.own_attendances(user=request.user)
        page: list[Any] = paginator.paginate_queryset(rows, request, view=self) or []
        balance = my_balance(user=request.user)
        return Response(
            {
                "confirmed_hours": str(
                    selectors.user_confirmed_hours(user=request.user).quantize(Decimal("0.01"))
                ),
                "points_balance": None if balance is None else balance["balance"],
                "count": paginator.count,
                "next": paginator.get_next_link(),
                "previous": paginator.get_previous_link(),
                "results": MyAttendanceOutput(page, many=True).data,
            }
        )
