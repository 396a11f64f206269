"""Background work of the registry: each task fetches, then makes one service call."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from community import services
from community.models import ImportJob


@shared_task
def import_job_check_task(*, job_id: int, **kwargs: Any) -> None:
    """Check the rows of an uploaded registry workbook (the preview)."""
    job = ImportJob.objects.select_related("uploaded_by").get(pk=job_id)
    services.import_job_check(job=job)


@shared_task
def residents_import_apply_task(*, job_id: int, **kwargs: Any) -> None:
    """Write a confirmed registry import, all rows or none."""
    job = ImportJob.objects.select_related("confirmed_by").get(pk=job_id)
    services.residents_import_apply(job=job, actor=job.confirmed_by)
