"""/api/v1/grievances/<id>/<action>/: one POST per move, one service call each.

The office accepts (受理) and dispatches (派单); the receiver of the live dispatch accepts
(接单) or declines it; the handler checks in on site and resolves (with an "after"
photo, multipart); the reporter rates. Each answers the grievance as the detail endpoint
shows it. Out of scope: 404; in scope but not yours to do: 403; the grievance is not
where this move starts (or someone else was first): 409; a missing reason, photo or
position: 400.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from community.models import Organization
from grievances import services
from grievances.api.common import (
    GrievanceDetailOutput,
    GrievanceRefusalSerializer,
    detail_response,
    refusal,
)
from grievances.attachments import MAX_PHOTOS
from grievances.models import Grievance, Tier
from grievances.selectors import grievance_detail
from grievances.selectors.f2_detail import grievance_live_dispatch

RESPONSES = {
    200: GrievanceDetailOutput,
    400: GrievanceRefusalSerializer,
    403: OpenApiResponse(GrievanceRefusalSerializer, description="in scope, but not yours to do"),
    404: OpenApiResponse(description="not in scope"),
    409: OpenApiResponse(
        GrievanceRefusalSerializer, description="not possible in the present status"
    ),
}


def _no_dispatch() -> ValidationError:
    return ValidationError(_("This grievance has no work order waiting."), code="no_dispatch")


class GrievanceActionApi(APIView):
    """A POST that parses its input, makes one service call and answers the grievance."""

    permission_classes = [IsAuthenticated]
    InputSerializer: type[serializers.Serializer] = serializers.Serializer

    def act(self, *, grievance: Grievance, actor: Any, data: dict[str, Any], now: Any) -> None:
        raise NotImplementedError

    def post(self, request: Request, pk: int) -> Response:
        try:
            grievance = grievance_detail(user=request.user, pk=pk)
        except Grievance.DoesNotExist:
            raise Http404 from None
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        now = timezone.now()
        try:
            self.act(
                grievance=grievance, actor=request.user, data=dict(data.validated_data), now=now
            )
        except (ValidationError, PermissionDenied) as exc:
            return refusal(exc)
        try:
            shown = grievance_detail(user=request.user, pk=pk)
        except Grievance.DoesNotExist:  # the move took it out of the caller's sight
            return Response({"id": pk}, status=status.HTTP_200_OK)
        return detail_response(user=request.user, grievance=shown, now=now)


class AcceptApi(GrievanceActionApi):
    """The office takes a submitted grievance on (受理), optionally setting its tier."""

    class InputSerializer(serializers.Serializer):
        tier = serializers.ChoiceField(choices=Tier.choices, required=False)

    def act(self, *, grievance: Grievance, actor: Any, data: dict[str, Any], now: Any) -> None:
        services.grievance_accept(grievance=grievance, actor=actor, now=now, tier=data.get("tier"))

    @extend_schema(operation_id="grievances_accept", request=InputSerializer, responses=RESPONSES)
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)


class DispatchApi(GrievanceActionApi):
    """The office sends the grievance to an organization or a person (派单); with
    neither, to the category's default handler."""

    class InputSerializer(serializers.Serializer):
        organization = serializers.PrimaryKeyRelatedField(
            queryset=Organization.objects.all(), required=False, allow_null=True
        )
        assignee = serializers.PrimaryKeyRelatedField(
            queryset=User.objects.filter(is_active=True), required=False, allow_null=True
        )
        note = serializers.CharField(max_length=1000, required=False, allow_blank=True)

    def act(self, *, grievance: Grievance, actor: Any, data: dict[str, Any], now: Any) -> None:
        services.grievance_dispatch(
            grievance=grievance,
            actor=actor,
            now=now,
            organization=data.get("organization"),
            assignee=data.get("assignee"),
            note=data.get("note", ""),
        )

    @extend_schema(operation_id="grievances_dispatch", request=InputSerializer, responses=RESPONSES)
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)


class DispatchAcceptApi(GrievanceActionApi):
    """The receiver takes the waiting work order (接单): the 1715 clocks start."""

    class InputSerializer(serializers.Serializer):
        tier = serializers.ChoiceField(choices=Tier.choices, required=False)

    def act(self, *, grievance: Grievance, actor: Any, data: dict[str, Any], now: Any) -> None:
        dispatch = grievance_live_dispatch(grievance=grievance)
        if dispatch is None:
            raise _no_dispatch()
        services.dispatch_accept(dispatch=dispatch, actor=actor, now=now, tier=data.get("tier"))

    @extend_schema(
        operation_id="grievances_dispatch_accept", request=InputSerializer, responses=RESPONSES
    )
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)


class DispatchDeclineApi(GrievanceActionApi):
    """The receiver refuses the waiting work order, saying why."""

    class InputSerializer(serializers.Serializer):
        reason = serializers.CharField(max_length=1000)

    def act(self, *, grievance: Grievance, actor: Any, data: dict[str, Any], now: Any) -> None:
        dispatch = grievance_live_dispatch(grievance=grievance)
        if dispatch is None:
            raise _no_dispatch()
        services.dispatch_decline(dispatch=dispatch, actor=actor, reason=data["reason"], now=now)

    @extend_schema(
        operation_id="grievances_dispatch_decline", request=InputSerializer, responses=RESPONSES
    )
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)


class CheckInApi(GrievanceActionApi):
    """The handler arrives (到场签到): position, optional photo; the arrive clock stops."""

    parser_classes = [JSONParser, MultiPartParser, FormParser]

    class InputSerializer(serializers.Serializer):
        latitude = serializers.CharField(max_length=32)
        longitude = serializers.CharField(max_length=32)
        photo = serializers.FileField(required=False, allow_empty_file=False)
        note = serializers.CharField(max_length=1000, required=False, allow_blank=True)

    def act(self, *, grievance: Grievance, actor: Any, data: dict[str, Any], now: Any) -> None:
        services.grievance_check_in(
            grievance=grievance,
            actor=actor,
            now=now,
            latitude=data["latitude"],
            longitude=data["longitude"],
            photo=data.get("photo"),
            note=data.get("note", ""),
        )

    @extend_schema(
        operation_id="grievances_check_in",
        request={"multipart/form-data": InputSerializer, "application/json": InputSerializer},
        responses=RESPONSES,
    )
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)


class ResolveApi(GrievanceActionApi):
    """Resolve (办结): a note and, from the handler, at least one "after" photo."""

    parser_classes = [MultiPartParser, FormParser, JSONParser]

    class InputSerializer(serializers.Serializer):
        note = serializers.CharField(max_length=5000)
        photos = serializers.ListField(
            child=serializers.FileField(allow_empty_file=False),
            required=False,
            max_length=MAX_PHOTOS,
            help_text="multipart: one `photos` part per photo",
        )

    def act(self, *, grievance: Grievance, actor: Any, data: dict[str, Any], now: Any) -> None:
        services.grievance_resolve(
            grievance=grievance,
            actor=actor,
            note=data["note"],
            now=now,
            photos=data.get("photos", []),
        )

    @extend_schema(
        operation_id="grievances_resolve",
        request={"multipart/form-data": InputSerializer},
        responses=RESPONSES,
    )
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)


class RateApi(GrievanceActionApi):
    """The reporter's verdict (评价): solved closes it, not solved reopens it."""

    class InputSerializer(serializers.Serializer):
        solved = serializers.BooleanField()
        stars = serializers.IntegerField(min_value=1, max_value=5)
        comment = serializers.CharField(max_length=1000, required=False, allow_blank=True)

    def act(self, *, grievance: Grievance, actor: Any, data: dict[str, Any], now: Any) -> None:
        services.grievance_rate(
            grievance=grievance,
            actor=actor,
            solved=data["solved"],
            stars=data["stars"],
            comment=data.get("comment", ""),
            now=now,
        )

    @extend_schema(operation_id="grievances_rate", request=InputSerializer, responses=RESPONSES)
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)
