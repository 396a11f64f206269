"""The Excel import of the residents registry (台账导入): upload, check, confirm, apply."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from itertools import islice
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import FileSystemStorage
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from community.models import (
    Household,
    ImportJob,
    Resident,
)
from community.privacy import (
    mask_text,
)
from community.registry_import import (
    CheckedRow,
    RegistryWorkbook,
    RowChecker,
    RowError,
    WorkbookError,
    progress_set,
)
from community.scoping import can_edit_registry, scope_for
from community.services.registry import household_create, resident_save, unit_create
from config.tasks import enqueue_on_commit

logger = logging.getLogger(__name__)

# ---------------------------------------------------------------------------------------
# Excel import of the residents registry (台账导入): upload → check (preview) → confirm →
# apply, all rows or none. Each status change is a compare-and-set along this map.

_Status = ImportJob.Status
IMPORT_JOB_TRANSITIONS: dict[str, frozenset[str]] = {
    _Status.UPLOADED: frozenset({_Status.VALIDATING, _Status.CANCELLED}),
    _Status.VALIDATING: frozenset({_Status.PREVIEW, _Status.INVALID, _Status.FAILED}),
    _Status.PREVIEW: frozenset({_Status.APPLYING, _Status.CANCELLED}),
    _Status.INVALID: frozenset({_Status.CANCELLED}),
    _Status.APPLYING: frozenset({_Status.DONE, _Status.FAILED}),
    _Status.DONE: frozenset(),
    _Status.FAILED: frozenset(),
    _Status.CANCELLED: frozenset(),
}
_IMPORT_CHUNK = 200
_PREVIEW_SAMPLE = 20
_PREVIEW_ADDRESSES = 100


class ImportAborted(Exception):
    """A row failed while applying: the transaction rolls back and the job shows why."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__(errors)
        self.errors = errors


def _private_storage() -> FileSystemStorage:
    # Uploaded registries hold whole ID numbers: outside the web root, owner-only.
    return FileSystemStorage(
        location=settings.PRIVATE_STORAGE_ROOT,
        file_permissions_mode=0o600,
        directory_permissions_mode=0o700,
    )


def _import_file_delete(name: str) -> None:
    if name:
        _private_storage().delete(name)


def _import_job_move(*, job: ImportJob, to: str, **fields: Any) -> bool:
    """Move `job` from its status to `to` if the map allows it and nobody moved it first."""
    if to not in IMPORT_JOB_TRANSITIONS[job.status]:
        raise ValidationError(
            _("This import is “%(status)s” and cannot be changed that way.")
            % {"status": job.get_status_display()}
        )
    moved = ImportJob.objects.filter(pk=job.pk, status=job.status).update(status=to, **fields)
    if moved != 1:
        return False
    job.status = to
    for key, value in fields.items():
        setattr(job, key, value)
    return True


def _chunks(rows: Iterator[tuple[int, dict[str, Any]]]) -> Iterator[list[tuple[int, Any]]]:
    while chunk := list(islice(rows, _IMPORT_CHUNK)):
        yield chunk


def import_job_create(*, actor: Any, upload: UploadedFile) -> ImportJob:
    """Keep an uploaded registry workbook privately and queue the check of its rows."""
    if not can_edit_registry(actor):
        raise PermissionDenied
    communities = scope_for(actor).community_ids
    storage = _private_storage()
    name = storage.save(f"imports/{uuid.uuid4().hex}.xlsx", upload)
    try:
        with transaction.atomic(durable=True):
            job = ImportJob.objects.create(
                uploaded_by=actor,
                community_id=next(iter(communities)) if len(communities) == 1 else None,
                original_name=(upload.name or "")[:255],
                file_path=name,
            )
            from community.tasks import import_job_check_task  # tasks import this module

            enqueue_on_commit(import_job_check_task, job_id=job.pk)
    except BaseException:
        storage.delete(name)
        raise
    return job


def import_job_check(*, job: ImportJob) -> ImportJob:
    """Check every row against the uploader's area and record the preview (预览)."""
    if job.status == _Status.UPLOADED:
        if not _import_job_move(job=job, to=_Status.VALIDATING):
            return job  # another worker took it
    elif job.status != _Status.VALIDATING:
        return job  # checked already: a repeated task changes nothing
    try:
        summary = _import_check_rows(job=job)
    except WorkbookError as exc:
        summary = {"errors": [exc.error.as_json()], "error_count": 1}
    except Exception:
        logger.exception("resident import %s: check failed", job.pk)
        stored = job.file_path
        with transaction.atomic(durable=True):
            _import_job_move(
                job=job,
                to=_Status.FAILED,
                errors=[RowError(None, "unexpected").as_json()],
                finished_at=timezone.now(),
                file_path="",
            )
            transaction.on_commit(lambda: _import_file_delete(stored))
        return job
    with transaction.atomic(durable=True):
        if summary["error_count"]:
            # The office fixes the file and uploads it again; this copy is not needed.
            stored = job.file_path
            _import_job_move(
                job=job, to=_Status.INVALID, checked_at=timezone.now(), file_path="", **summary
            )
            transaction.on_commit(lambda: _import_file_delete(stored))
        else:
            _import_job_move(job=job, to=_Status.PREVIEW, checked_at=timezone.now(), **summary)
    return job


def _import_check_rows(*, job: ImportJob) -> dict[str, Any]:
    checker = RowChecker(user=job.uploaded_by)
    errors: list[RowError] = []
    sample: list[dict[str, Any]] = []
    done = new = updates = 0
    with RegistryWorkbook(_private_storage().path(job.file_path)) as book:
        hint = book.total_hint
        progress_set(job.pk, phase="checking", done=0, total=hint)
        for chunk in _chunks(book.rows()):
            good, bad = checker.check(chunk)
            errors.extend(bad)
            for row in good:
                if row.resident_id:
                    updates += 1
                else:
                    new += 1
                if len(sample) < _PREVIEW_SAMPLE:
                    sample.append(row.preview())
            done += len(chunk)
            progress_set(job.pk, phase="checking", done=done, total=max(hint or 0, done))
    if done == 0:
        errors.append(RowError(None, "no_rows"))
    errors.sort(key=lambda e: e.row or 0)
    return {
        "total_rows": done,
        "new_count": new,
        "update_count": updates,
        "error_count": len({e.row for e in errors}),
        "new_unit_count": len(checker.new_units),
        "new_household_count": len(checker.new_households),
        "errors": [e.as_json() for e in errors],
        "preview": {
            "sample": sample,
            "new_units": list(checker.new_units.values())[:_PREVIEW_ADDRESSES],
            "new_households": list(checker.new_households.values())[:_PREVIEW_ADDRESSES],
        },
    }


def import_job_confirm(*, job: ImportJob, actor: Any) -> ImportJob:
    """Accept a clean preview and queue the import (确认导入); refused while it has errors."""
    if not can_edit_registry(actor):
        raise PermissionDenied
    if job.status != _Status.PREVIEW or job.error_count:
        raise ValidationError(_("Only a checked file without errors can be imported."))
    with transaction.atomic(durable=True):
        if not _import_job_move(job=job, to=_Status.APPLYING, confirmed_by=actor):
            raise ValidationError(_("Someone else changed this import. Reload the page."))
        from community.tasks import residents_import_apply_task  # tasks import this module

        # "applying 0/N" is shown until the task reports; it is registered before the
        # enqueue (on_commit callbacks run in order), so it can never overwrite the
        # progress of a task that already started (embedded and sync modes run at once).
        total = job.total_rows
        transaction.on_commit(lambda: progress_set(job.pk, phase="applying", done=0, total=total))
        enqueue_on_commit(residents_import_apply_task, job_id=job.pk)
    return job


def import_job_cancel(*, job: ImportJob, actor: Any) -> ImportJob:
    """Drop an import that was not applied, and its stored file."""
    if not can_edit_registry(actor):
        raise PermissionDenied
    stored = job.file_path
    with transaction.atomic(durable=True):
        if not _import_job_move(
            job=job, to=_Status.CANCELLED, finished_at=timezone.now(), file_path=""
        ):
            raise ValidationError(_("Someone else changed this import. Reload the page."))
        transaction.on_commit(lambda: _import_file_delete(stored))
    return job


def residents_import_apply(*, job: ImportJob, actor: Any) -> ImportJob:
    """Write a confirmed import in one transaction: every row, or none (导入台账)."""
    errors: list[RowError]
    try:
        with transaction.atomic(durable=True):
            # The lock makes a repeated task wait, then find the job done and return.
            locked = ImportJob.objects.select_for_update().get(pk=job.pk)
            if locked.status != _Status.APPLYING:
                return locked
            counts = _import_apply_rows(job=locked, actor=actor)
            stored = locked.file_path
            _import_job_move(
                job=locked,
                to=_Status.DONE,
                finished_at=timezone.now(),
                file_path="",
                errors=[],
                error_count=0,
                **counts,
            )
            transaction.on_commit(lambda: _import_file_delete(stored))
            return locked
    except ImportAborted as exc:
        errors = exc.errors
    except WorkbookError as exc:
        errors = [exc.error]
    except Exception:
        logger.exception("resident import %s: apply failed", job.pk)
        errors = [RowError(None, "unexpected")]
    # Everything above rolled back; record why, outside that transaction.
    with transaction.atomic(durable=True):
        failed = ImportJob.objects.select_for_update().get(pk=job.pk)
        stored = failed.file_path
        _import_job_move(
            job=failed,
            to=_Status.FAILED,
            errors=[e.as_json() for e in errors],
            error_count=len({e.row for e in errors}),
            finished_at=timezone.now(),
            file_path="",
        )
        transaction.on_commit(lambda: _import_file_delete(stored))
    return failed


@transaction.atomic(savepoint=False)
def _import_apply_rows(*, job: ImportJob, actor: Any) -> dict[str, Any]:
    checker = RowChecker(user=actor)
    reason = _("Excel import #%(id)s") % {"id": job.pk}
    done = new = updated = unchanged = units = households = 0
    with RegistryWorkbook(_private_storage().path(job.file_path)) as book:
        total = job.total_rows or book.total_hint
        for chunk in _chunks(book.rows()):
            # The file is checked again: the registry may have changed since the preview.
            good, bad = checker.check(chunk)
            if bad:
                raise ImportAborted(bad)
            ids = sorted(row.resident_id for row in good if row.resident_id)
            existing = {
                r.pk: r
                for r in Resident.objects.select_for_update()
                .filter(pk__in=ids)
                .prefetch_related("tags")
                .order_by("pk")
            }
            for row in good:
                try:
                    household, made_unit, made_household = _import_household(
                        row=row, checker=checker, actor=actor
                    )
                    units += made_unit
                    households += made_household
                    if row.resident_id is None:
                        fields = row.fields_for_new_resident()
                        resident_save(
                            resident=None,
                            actor=actor,
                            household=household,
                            name=row.name,
                            id_number=row.id_number,
                            phone=fields.pop("phone", ""),
                            tags=row.tags,
                            change_reason=reason,
                            **fields,
                        )
                        new += 1
                    else:
                        resident = existing[row.resident_id]
                        if _import_row_unchanged(resident=resident, household=household, row=row):
                            unchanged += 1
                            continue
                        fields = dict(row.fields)
                        resident_save(
                            resident=resident,
                            actor=actor,
                            household=household,
                            name=row.name,
                            phone=fields.pop("phone", resident.phone),
                            tags=row.tags,
                            change_reason=reason,
                            **fields,
                        )
                        updated += 1
                except ValidationError as exc:
                    message = mask_text("; ".join(exc.messages))
                    raise ImportAborted(
                        [RowError(row.row, "invalid_record", params={"message": message})]
                    ) from None
                except IntegrityError:
                    message = _("the database refused it (a duplicate or a broken rule)")
                    raise ImportAborted(
                        [RowError(row.row, "invalid_record", params={"message": message})]
                    ) from None
            done += len(chunk)
            # Not in the database: this transaction hides its own writes until it commits.
            progress_set(job.pk, phase="applying", done=done, total=max(total or 0, done))
    if done == 0:
        raise ImportAborted([RowError(None, "no_rows")])
    return {
        "total_rows": done,
        "new_count": new,
        "update_count": updated,
        "new_unit_count": units,
        "new_household_count": households,
        "preview": {**job.preview, "unchanged_count": unchanged},
    }


def _import_household(
    *, row: CheckedRow, checker: RowChecker, actor: Any
) -> tuple[Household, int, int]:
    """The row's household, creating its unit and room when the building lacks them."""
    made_unit = made_household = 0
    unit = checker.unit_for(row.building, row.unit_number)
    if unit is None:
        unit = unit_create(actor=actor, building=row.building, number=row.unit_number)
        checker.remember_unit(unit)
        made_unit = 1
    household = checker.household_for(unit, row.room)
    if household is None:
        household = household_create(actor=actor, unit=unit, room=row.room)
        checker.remember_household(household)
        made_household = 1
    return household, made_unit, made_household


def _import_row_unchanged(*, resident: Resident, household: Household, row: CheckedRow) -> bool:
    """True when the row says nothing new: re-importing a file adds no history rows."""
    if resident.household_id != household.pk or resident.name != row.name.strip():
        return False
    for key, value in row.fields.items():
        if getattr(resident, key) != value:
            return False
    if row.tags is not None:
        stored = {t.pk for t in resident.tags.all()}
        if stored != {t.pk for t in row.tags}:
            return False
    return True
