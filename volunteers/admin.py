from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from volunteers.models import (
    Activity,
    Award,
    PartyMemberRegistration,
    PatrolFinding,
    PatrolLog,
    Post,
    ServiceRecord,
    StewardInvitation,
    Team,
)


@admin.register(Team)
class TeamAdmin(SimpleHistoryAdmin):
    list_display = ["name", "kind", "community", "leader"]
    list_filter = ["kind"]
    search_fields = ["name"]
    raw_id_fields = ["community", "leader"]


@admin.register(Post)
class PostAdmin(SimpleHistoryAdmin):
    list_display = ["name", "code", "community"]
    search_fields = ["name", "code"]
    raw_id_fields = ["community"]


@admin.register(PartyMemberRegistration)
class PartyMemberRegistrationAdmin(SimpleHistoryAdmin):
    list_display = ["name", "employer", "party_branch", "community", "status", "post"]
    list_filter = ["status"]
    search_fields = ["name", "employer"]
    raw_id_fields = ["community", "user", "post", "confirmed_by"]
    readonly_fields = ["status", "confirmed_by"]


@admin.register(Activity)
class ActivityAdmin(SimpleHistoryAdmin):
    list_display = ["title", "kind", "community", "starts_at", "capacity", "signed_up_count"]
    list_filter = ["kind", "signup_open"]
    search_fields = ["title", "place"]
    raw_id_fields = ["community", "team", "post"]


@admin.register(ServiceRecord)
class ServiceRecordAdmin(SimpleHistoryAdmin):
    list_display = ["item", "count", "activity", "recorded_by", "recorded_at"]
    search_fields = ["item", "beneficiaries"]
    raw_id_fields = ["activity", "recorded_by"]


class PatrolFindingInline(admin.TabularInline):
    model = PatrolFinding
    extra = 0
    raw_id_fields = ["building", "category", "grievance"]
    readonly_fields = ["grievance"]


@admin.register(PatrolLog)
class PatrolLogAdmin(SimpleHistoryAdmin):
    list_display = ["route", "team", "started_at", "ended_at", "logged_by"]
    search_fields = ["route", "findings"]
    raw_id_fields = ["team", "activity", "logged_by"]
    inlines = [PatrolFindingInline]


@admin.register(Award)
class AwardAdmin(SimpleHistoryAdmin):
    list_display = ["title", "title_other", "community", "awarded_at", "points", "is_public"]
    list_filter = ["title", "is_public"]
    search_fields = ["recipient_name", "title_other", "citation"]
    raw_id_fields = ["community", "recipient_user", "recipient_resident", "awarded_by"]
    # Points move only through award_grant and the ledger.
    readonly_fields = ["points"]


@admin.register(StewardInvitation)
class StewardInvitationAdmin(SimpleHistoryAdmin):
    list_display = ["resident", "team", "community", "status", "created_at", "decided_at"]
    list_filter = ["status"]
    raw_id_fields = ["community", "resident", "team", "invited_by", "member"]
    readonly_fields = ["status", "decided_at", "member"]
