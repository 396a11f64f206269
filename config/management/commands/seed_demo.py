"""`manage.py seed_demo`: the whole demo, app by app (registry, points, grievances,
volunteers, property).

Idempotent: each part finds its rows by natural keys, so a second run adds nothing.
"""

from __future__ import annotations

from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand

from community.models import Street
from credit.demo import credit_demo_build
from grievances.demo import grievance_demo_build
from property_mgmt.demo import property_demo_build
from volunteers.demo import volunteer_demo_build


class Command(BaseCommand):
    help = "Create (idempotently) the demo street, its residents, logins, points and grievances."

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("seed_registry_demo", stdout=self.stdout)
        street = Street.objects.get(code="DEMO-QS")
        made = credit_demo_build(street=street)
        self.stdout.write(
            self.style.SUCCESS(
                "points demo ready: {rules} new rules, {items} new items, {entries} new entries, "
                "{boards} new red lists".format(**made)
            )
        )
        # After the points demo: a steward's satisfied closure earns points by its rule.
        for community in street.communities.order_by("code"):
            made = grievance_demo_build(community=community)
            if made["grievances"]:
                self.stdout.write(
                    self.style.SUCCESS(
                        f"grievances demo ready in {community.name}: {made['grievances']} "
                        "grievances in every status"
                    )
                )
        # After the points demo too: confirmed volunteer hours earn points by their rule.
        # 林阿姨 (the demo resident login) lives in 青松社区.
        qingsong = street.communities.get(code="DEMO-QS")
        made = volunteer_demo_build(community=qingsong)
        self.stdout.write(
            self.style.SUCCESS(
                f"volunteers demo ready in {qingsong.name}: {made['teams']} new teams, "
                f"{made['activities']} new activities, {made['signups']} new sign-ups"
            )
        )
        # After the points and grievance demos: on-time fees earn points by their rule, and
        # contracts take the grievance categories in scope.
        made = property_demo_build(community=qingsong)
        self.stdout.write(
            self.style.SUCCESS(
                f"property demo ready in {qingsong.name}: {made['contracts']} new contracts, "
                f"{made['bills']} new bills, {made['payments']} new payments, "
                f"{made['survey_answers']} new survey answers, {made['fund_entries']} new fund entries"
            )
        )
