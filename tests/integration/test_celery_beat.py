"""Celery beat in production reads its schedule from the settings, through the database."""

from __future__ import annotations

import pytest
from django.conf import settings
from django_celery_beat.models import PeriodicTask
from django_celery_beat.schedulers import DatabaseScheduler

from config.celery import app


# transaction=True: the scheduler calls close_old_connections(), which closes a connection
# held inside the test's transaction (on PostgreSQL) and breaks every later query.
@pytest.mark.django_db(transaction=True)
def test_beat_writes_every_periodic_task_of_the_settings_into_its_tables() -> None:
    # django-celery-beat's DatabaseScheduler syncs app.conf.beat_schedule into its tables
    # when beat starts, so LINLI_PERIODIC_TASKS stays the one list of periodic work.
    assert app.conf.beat_scheduler == "django_celery_beat.schedulers:DatabaseScheduler"
    assert set(app.conf.beat_schedule) == set(settings.LINLI_PERIODIC_TASKS)

    DatabaseScheduler(app=app)

    for name, spec in settings.LINLI_PERIODIC_TASKS.items():
        entry = PeriodicTask.objects.select_related("interval").get(name=name)
        assert entry.task == spec["task"]
        assert entry.enabled
        assert entry.interval is not None
        assert entry.interval.every * {"seconds": 1, "minutes": 60, "hours": 3600}[
            entry.interval.period
        ] == float(str(spec["every"]))
