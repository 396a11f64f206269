"""Every write of the volunteers app. Pages, APIs, admin actions and tasks call these."""

from volunteers.services.attendance import (
    attendance_check_in,
    attendance_check_out,
    attendance_confirm,
    attendance_correct,
    attendance_no_show,
    attendances_confirm,
    no_show_block_lift,
    no_show_limit,
)
from volunteers.services.awards import AWARD_RULE_CODE, award_grant
from volunteers.services.invitations import steward_invitation_answer, steward_invite
from volunteers.services.posts import TEN_POSTS, posts_install
from volunteers.services.records import (
    patrol_finding_to_grievance,
    patrol_log_add,
    service_record_add,
)
from volunteers.services.registrations import (
    party_member_register,
    registration_confirm,
    registration_decline,
)
from volunteers.services.signups import activity_signup, signup_cancel
from volunteers.services.teams import team_member_add, team_member_leave

__all__ = [
    "AWARD_RULE_CODE",
    "TEN_POSTS",
    "activity_signup",
    "attendance_check_in",
    "attendance_check_out",
    "attendance_confirm",
    "attendance_correct",
    "attendance_no_show",
    "attendances_confirm",
    "award_grant",
    "no_show_block_lift",
    "no_show_limit",
    "party_member_register",
    "patrol_finding_to_grievance",
    "patrol_log_add",
    "posts_install",
    "registration_confirm",
    "registration_decline",
    "service_record_add",
    "signup_cancel",
    "steward_invitation_answer",
    "steward_invite",
    "team_member_add",
    "team_member_leave",
]
