from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from volunteers.models import Activity, PartyMemberRegistration, Post, Team


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
