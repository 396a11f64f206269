"""What every /api/v1/volunteers/ endpoint shares: the refusal shape and the JSON of an
activity, a sign-up and an attendance.

Errors, as in the property API (`config.api_fields.refusal`): a service's refusal is 400
with `detail` (its messages, in the request's language), `code` and, when it names fields,
`errors` per field; "in scope but not yours to do" is 403; anything outside the caller's
scope is 404, exactly like an unknown id.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied
from drf_spectacular.utils import OpenApiResponse, extend_schema_field, inline_serializer
from rest_framework import exceptions, serializers
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.phone import mask_phone
from config.api_fields import ChoiceLabelField, NamedChoiceField, refusal, refusal_serializer
from volunteers.models import Activity, Attendance, SignUp
from volunteers.views.checkin import checkin_path, checkin_token


def not_yours() -> Response:
    """403 for an activity the caller may see but does not run (DRF's own, translated words)."""
    return refusal(PermissionDenied(str(exceptions.PermissionDenied.default_detail)))


#: The body of a refusal, for the schema.
VolunteerRefusalSerializer = refusal_serializer(
    "VolunteerRefusal",
    codes="closed, started, window, not_signed_up, not_checked_in, no_show, confirmed, "
    "not_finished, not_ended, checked_in, status, negative … (400); "
    "permission_denied, token (403)",
)


class ActivityKindField(NamedChoiceField):
    """An activity's kind (the ActivityKindEnum component of the schema)."""

    choice_set = Activity.Kind
    enum_name = "ActivityKindEnum"


class SignUpStatusField(NamedChoiceField):
    """A sign-up's status (the SignUpStatusEnum component of the schema)."""

    choice_set = SignUp.Status
    enum_name = "SignUpStatusEnum"


NOT_IN_SCOPE = OpenApiResponse(description="not in scope")
NOT_YOURS = OpenApiResponse(VolunteerRefusalSerializer, description="in scope, but not yours to do")


# --- output ----------------------------------------------------------------------------------


class ActivityOutput(serializers.Serializer):
    """An activity as every list and detail shows it (team and post joined in)."""

    id = serializers.IntegerField()
    community = serializers.IntegerField(source="community_id")
    title = serializers.CharField()
    kind = ActivityKindField()
    kind_label = ChoiceLabelField(Activity.Kind, source="kind")
    place = serializers.CharField()
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    team = serializers.IntegerField(source="team_id", allow_null=True)
    team_name = serializers.CharField(source="team.name", default=None, allow_null=True)
    post = serializers.IntegerField(source="post_id", allow_null=True)
    post_name = serializers.CharField(source="post.name", default=None, allow_null=True)
    audience = serializers.ChoiceField(choices=Activity.Audience.choices)
    audience_label = ChoiceLabelField(Activity.Audience, source="audience")
    capacity = serializers.IntegerField()
    signed_up_count = serializers.IntegerField()
    places_left = serializers.SerializerMethodField()
    signup_open = serializers.BooleanField()

    def get_places_left(self, obj: Activity) -> int:
        return max(obj.capacity - obj.signed_up_count, 0)


class UpcomingActivityOutput(ActivityOutput):
    """An upcoming activity with its waiting list and the caller's own sign-up (the team's
    and post's names read as columns of the row)."""

    team_name = serializers.CharField(allow_null=True)
    post_name = serializers.CharField(allow_null=True)
    waiting_count = serializers.IntegerField()
    my_signup = serializers.IntegerField(source="my_signup_id", allow_null=True)
    my_status = SignUpStatusField(
        allow_null=True,
        help_text="null: not signed up (a cancelled sign-up is not shown)",
    )


class ActivityDetailOutput(ActivityOutput):
    """One activity: when check-in opens and closes, the waiting list, my sign-up."""

    checkin_opens_at = serializers.SerializerMethodField()
    checkout_closes_at = serializers.SerializerMethodField()
    waiting_count = serializers.SerializerMethodField()
    my_signup = serializers.SerializerMethodField()

    def get_checkin_opens_at(self, obj: Activity) -> dt.datetime:
        return obj.starts_at - dt.timedelta(minutes=obj.checkin_opens_minutes)

    def get_checkout_closes_at(self, obj: Activity) -> dt.datetime:
        return obj.ends_at + dt.timedelta(minutes=obj.checkout_closes_minutes)

    def get_waiting_count(self, obj: Activity) -> int:
        return int(self.context["waiting_count"])

    @extend_schema_field(
        inline_serializer(
            name="MySignUp",
            fields={
                "id": serializers.IntegerField(),
                "status": SignUpStatusField(),
                "position": serializers.IntegerField(allow_null=True),
            },
            allow_null=True,
        )
    )
    def get_my_signup(self, obj: Activity) -> dict[str, Any] | None:
        mine: SignUp | None = self.context["my_signup"]
        if mine is None:
            return None
        return {"id": mine.pk, "status": mine.status, "position": mine.position}


class ManagedActivityOutput(ActivityOutput):
    """An activity the caller runs, with the link its QR code opens."""

    checkin_url = serializers.SerializerMethodField(
        help_text="the QR code's link; its last part is the token volunteers send to check in"
    )
    checkin_token = serializers.SerializerMethodField()

    def get_checkin_url(self, obj: Activity) -> str:
        request: Request = self.context["request"]
        return request.build_absolute_uri(checkin_path(obj.pk))

    def get_checkin_token(self, obj: Activity) -> str:
        return checkin_token(obj.pk)


class SignUpOutput(serializers.Serializer):
    """A sign-up: a place, or a place on the waiting list (`position`)."""

    id = serializers.IntegerField()
    activity = serializers.IntegerField(source="activity_id")
    activity_title = serializers.CharField(source="activity.title")
    starts_at = serializers.DateTimeField(source="activity.starts_at")
    ends_at = serializers.DateTimeField(source="activity.ends_at")
    place = serializers.CharField(source="activity.place")
    status = SignUpStatusField()
    status_label = ChoiceLabelField(SignUp.Status, source="status")
    position = serializers.IntegerField(
        allow_null=True, help_text="place on the waiting list, 1 first"
    )
    created_at = serializers.DateTimeField()
    promoted_at = serializers.DateTimeField(allow_null=True)
    cancelled_at = serializers.DateTimeField(allow_null=True)


ATTENDANCE_STATES = ("no_show", "confirmed", "checked_out", "checked_in", "signed_up")


def attendance_state(attendance: Attendance | None) -> str:
    """Where an attendance stands, as the leader's page shows it."""
    if attendance is None:
        return "signed_up"
    if attendance.no_show:
        return "no_show"
    if attendance.confirmed_at is not None:
        return "confirmed"
    if attendance.checked_out_at is not None:
        return "checked_out"
    return "checked_in" if attendance.checked_in_at is not None else "signed_up"


class AttendanceOutput(serializers.Serializer):
    """Who came and for how long; hours count once a second person confirms them."""

    id = serializers.IntegerField()
    activity = serializers.IntegerField(source="activity_id")
    signup = serializers.IntegerField(source="signup_id")
    state = serializers.SerializerMethodField(
        help_text="no_show, confirmed, checked_out, checked_in or signed_up"
    )
    checked_in_at = serializers.DateTimeField(allow_null=True)
    checked_out_at = serializers.DateTimeField(allow_null=True)
    hours = serializers.DecimalField(
        max_digits=5, decimal_places=2, allow_null=True, help_text="from check-in and check-out"
    )
    corrected_hours = serializers.DecimalField(max_digits=5, decimal_places=2, allow_null=True)
    counted_hours = serializers.DecimalField(
        max_digits=5,
        decimal_places=2,
        allow_null=True,
        help_text="the leader's correction when there is one, else the hours",
    )
    confirmed_at = serializers.DateTimeField(allow_null=True)
    no_show = serializers.BooleanField()

    def get_state(self, obj: Attendance) -> str:
        return attendance_state(obj)


class MyAttendanceOutput(AttendanceOutput):
    """One of my attendances, with the activity it was for (`own_attendances`' columns)."""

    activity_title = serializers.CharField()
    starts_at = serializers.DateTimeField(source="activity_start")
    ends_at = serializers.DateTimeField(source="activity_end")


class RosterRowOutput(serializers.Serializer):
    """A sign-up on the leader's roster: who (phone masked), place or waiting, attendance."""

    signup = serializers.IntegerField(source="pk")
    user = serializers.IntegerField(source="user_id")
    name = serializers.SerializerMethodField()
    phone = serializers.SerializerMethodField(help_text="masked: 138****8000")
    status = SignUpStatusField()
    position = serializers.IntegerField(allow_null=True)
    created_at = serializers.DateTimeField()
    state = serializers.SerializerMethodField(
        help_text="waiting, or the attendance's state: no_show, confirmed, checked_out, "
        "checked_in, signed_up"
    )
    attendance = serializers.SerializerMethodField()

    def get_name(self, obj: SignUp) -> str:
        return str(obj.user.name or obj.user)

    def get_phone(self, obj: SignUp) -> str:
        return mask_phone(obj.user.phone)

    def get_state(self, obj: SignUp) -> str:
        if obj.status == SignUp.Status.WAITING:
            return "waiting"
        return attendance_state(getattr(obj, "attendance", None))

    @extend_schema_field(AttendanceOutput(allow_null=True))
    def get_attendance(self, obj: SignUp) -> dict[str, Any] | None:
        attendance = getattr(obj, "attendance", None)
        return None if attendance is None else dict(AttendanceOutput(attendance).data)
