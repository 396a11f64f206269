"""`manage.py serve`: the embedded run mode: the web server plus the periodic loop."""

from __future__ import annotations

from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand

from config.embedded import start_loop


class Command(BaseCommand):
    help = "Serve Linli with its periodic tasks in one process (no Redis or Celery needed)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000")

    def handle(self, *args: Any, addrport: str, **options: Any) -> None:
        start_loop()
        self.stdout.write(self.style.SUCCESS("periodic tasks: running in-process"))
        # No autoreloader: it would fork a second process with a second loop.
        call_command("runserver", addrport, use_reloader=False)
