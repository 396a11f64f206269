"""/api/v1/credit/ boards and standard: published red/grey lists and the scoring standard."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.pagination import CursorPagination
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from community.models import Community
from credit.models import BoardSnapshot
from credit.selectors.boards import board_get, board_list
from credit.selectors.standard import standard_community, standard_for


class BoardPagination(CursorPagination):
    ordering = ("-period_start", "-id")
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100


class BoardRowSerializer(serializers.Serializer):
    rank = serializers.IntegerField()
    name = serializers.CharField()
    building = serializers.CharField()
    points = serializers.IntegerField()


class BoardOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    community = serializers.IntegerField(source="community_id")
    community_name = serializers.CharField(source="community.name")
    period = serializers.CharField()
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    area_kind = serializers.CharField()
    area_name = serializers.CharField()
    red_rows = BoardRowSerializer(many=True)
    grey_rows = BoardRowSerializer(many=True)
    published_at = serializers.DateTimeField()


class BoardListApi(APIView):
    """Published boards of the caller's communities (optionally one community)."""

    permission_classes = [IsAuthenticated]

    class FilterSerializer(serializers.Serializer):
        community = serializers.IntegerField(required=False, source="community_id")

    @extend_schema(
        parameters=[FilterSerializer, OpenApiParameter("cursor", str)],
        responses=BoardOutputSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        qs = board_list(user=request.user, **filters.validated_data)
        paginator = BoardPagination()
        page: list[Any] | None = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(BoardOutputSerializer(page, many=True).data)


class BoardDetailApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=BoardOutputSerializer)
    def get(self, request: Request, pk: int) -> Response:
        try:
            board = board_get(user=request.user, pk=pk)
        except BoardSnapshot.DoesNotExist:
            raise Http404 from None
        return Response(BoardOutputSerializer(board).data)


class StandardRuleSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    points = serializers.IntegerField()
    unit = serializers.CharField()
    caps = serializers.CharField()
    awarders = serializers.CharField()
    evidence = serializers.CharField()
    description = serializers.CharField()
    is_local = serializers.BooleanField()


class StandardCategorySerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField(source="label")
    rules = StandardRuleSerializer(many=True)


class StandardOutputSerializer(serializers.Serializer):
    community = serializers.CharField(source="community.code")
    community_name = serializers.CharField(source="community.name")
    categories = StandardCategorySerializer(many=True)


def _standard(community: Community) -> Response:
    data = {"community": community, "categories": standard_for(community=community)}
    return Response(StandardOutputSerializer(data).data)


class StandardMineApi(APIView):
    """The standard in force in the caller's community."""

    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="credit_standard_mine", responses=StandardOutputSerializer)
    def get(self, request: Request) -> Response:
        try:
            community = standard_community(user=request.user)
        except Community.DoesNotExist:
            raise Http404 from None
        return _standard(community)


class StandardPublicApi(APIView):
    """The standard of a community by its code: public, like the posted standard."""

    permission_classes = [AllowAny]
    authentication_classes: list[Any] = []

    @extend_schema(operation_id="credit_standard_public", responses=StandardOutputSerializer)
    def get(self, request: Request, code: str) -> Response:
        try:
            community = standard_community(user=None, code=code)
        except Community.DoesNotExist:
            raise Http404 from None
        return _standard(community)
