"""Every write of the volunteers app. Pages, APIs, admin actions and tasks call these."""

from volunteers.services.attendance import (
    attendance_check_in,
    attendance_check_out,
    attendance_confirm,
    attendance_correct,
    attendance_no_show,
    no_show_block_lift,
    no_show_limit,
)
from volunteers.services.posts import TEN_POSTS, posts_install
from volunteers.services.registrations import (
    party_member_register,
    registration_confirm,
    registration_decline,
)
from volunteers.services.signups import activity_signup, signup_cancel
from volunteers.services.teams import team_member_add, team_member_leave

__all__ = [
    "TEN_POSTS",
    "activity_signup",
    "attendance_check_in",
    "attendance_check_out",
    "attendance_confirm",
    "attendance_correct",
    "attendance_no_show",
    "no_show_block_lift",
    "no_show_limit",
    "party_member_register",
    "posts_install",
    "registration_confirm",
    "registration_decline",
    "signup_cancel",
    "team_member_add",
    "team_member_leave",
]
