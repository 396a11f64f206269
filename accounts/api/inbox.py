"""/api/v1/inbox/: the user's own notifications, for the apps (grid workers, residents).

Everyone who logs in has an inbox and reads only their own; another's id answers 404.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.pagination import CursorPagination
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Notification
from accounts.notifications import notification_mark_read
from accounts.notifications.selectors import inbox_notification_get, inbox_notifications


class NewestFirstPagination(CursorPagination):
    """Cursor pages newest first: stable while new notifications arrive, no COUNT(*)."""

    ordering = "-id"
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100


class NotificationOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField(help_text="A short code, e.g. grievance.escalated.")
    subject = serializers.CharField()
    body = serializers.CharField()
    link = serializers.CharField(
        source="local_link", help_text="A path on this site to open, or empty."
    )
    ref = serializers.CharField()
    created_at = serializers.DateTimeField()
    read_at = serializers.DateTimeField(allow_null=True)


class InboxListApi(APIView):
    permission_classes = [IsAuthenticated]

    class InputSerializer(serializers.Serializer):
        unread = serializers.BooleanField(required=False, default=False)

    @extend_schema(
        parameters=[
            OpenApiParameter("unread", bool, description="Only unread notifications."),
            OpenApiParameter("cursor", str),
            OpenApiParameter("page_size", int),
        ],
        responses=NotificationOutputSerializer(many=True),
        summary="My notifications, newest first",
    )
    def get(self, request: Request) -> Response:
        query = self.InputSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        notifications = inbox_notifications(
            user=request.user, unread_only=query.validated_data["unread"]
        )
        paginator = NewestFirstPagination()
        page: list[Any] = paginator.paginate_queryset(notifications, request, view=self) or []
        return paginator.get_paginated_response(NotificationOutputSerializer(page, many=True).data)


class InboxReadApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=None,
        responses=NotificationOutputSerializer,
        summary="Mark one of my notifications read (the first reading time stays)",
    )
    def post(self, request: Request, pk: int) -> Response:
        try:
            notification = inbox_notification_get(user=request.user, pk=pk)
        except Notification.DoesNotExist:
            raise Http404 from None
        notification = notification_mark_read(notification=notification, now=timezone.now())
        return Response(NotificationOutputSerializer(notification).data)
