"""`manage.py seed_demo`: the whole demo, app by app (registry, then points).

Idempotent: each part finds its rows by natural keys, so a second run adds nothing.
"""

from __future__ import annotations

from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand

from community.models import Street
from credit.demo import credit_demo_build


class Command(BaseCommand):
    help = "Create (idempotently) the demo street, its residents, logins and points."

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
