"""Writes to the registry. Every write records who acted (django-simple-history)."""

from __future__ import annotations

import datetime as dt
import logging
import re
import uuid
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import FileSystemStorage
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.phone import normalize_phone
from community.models import (
    Building,
    Household,
    ImportJob,
    Membership,
    Resident,
    ResidentTag,
    Unit,
)
from community.privacy import (
    encrypt_id_number,
    hash_id_number,
    mask_id_number,
    mask_text,
    normalize_id_number,
    validate_id_number,
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
from config.tasks import enqueue_on_commit

logger = logging.getLogger(__name__)

_PHONE_OK = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}\d{7,8})$")


def clean_resident_phone(raw: str) -> str:
    """A mobile number, or a landline with its area code ('010-6512 3456' -> '01065123456')."""
    phone = normalize_phone(raw)
    if phone and not _PHONE_OK.match(phone):
        raise ValidationError({"phone": _("Enter a mobile number or a landline with area code.")})
    return phone


def id_number_fields(raw: str) -> dict[str, Any]:
    """The stored columns for an ID number: ciphertext, lookup hash, masked display."""
    if not raw:
        return {"id_number_ciphertext": "", "id_number_hash": None, "id_number_masked": ""}
    value = normalize_id_number(raw)
    try:
        validate_id_number(value)
    except ValidationError as exc:
        raise ValidationError({"id_number": exc.messages}) from None
    return {
        "id_number_ciphertext": encrypt_id_number(value),
        "id_number_hash": hash_id_number(value),
        "id_number_masked": mask_id_number(value),
    }


def check_id_number_free(fields: dict[str, Any], *, exclude_pk: int | None) -> None:
    """Refuse an ID number that another resident already has (compared by hash)."""
    digest = fields.get("id_number_hash")
    if not digest:
        return
    clash = Resident.objects.filter(id_number_hash=digest)
    if exclude_pk:
        clash = clash.exclude(pk=exclude_pk)
    if clash.exists():
        raise ValidationError({"id_number": _("A resident with this ID number already exists.")})


@transaction.atomic(savepoint=False)
def resident_save(
    *,
    resident: Resident | None,
    actor: Any,
    household: Household,
    name: str,
    id_number: str | None = None,
    phone: str = "",
    tags: Iterable[ResidentTag] | None = None,
    change_reason: str | None = None,
    **fields: Any,
) -> Resident:
    """Create or update a resident. `id_number=None` keeps the stored one; '' clears it."""
    if resident is None:
        resident = Resident()
    resident.household = household
    resident.name = name.strip()
    resident.phone = clean_resident_phone(phone)
    for key, value in fields.items():
        setattr(resident, key, value)
    if id_number is not None:
        id_fields = id_number_fields(id_number)
        check_id_number_free(id_fields, exclude_pk=resident.pk)
        for key, value in id_fields.items():
            setattr(resident, key, value)
    if resident.status == Resident.Status.MOVED_OUT and not resident.moved_out_on:
        resident.moved_out_on = dt.date.today()
    resident.full_clean(exclude=["id_number_hash", "user"])
    resident._history_user = actor  # type: ignore[attr-defined]
    if change_reason:
        resident._change_reason = change_reason  # type: ignore[attr-defined]
    resident.save()
    if tags is not None:
        resident.tags.set(tags)
    return resident


def resident_create(*, actor: Any, household: Household, name: str, **fields: Any) -> Resident:
    """Register a resident in a household (登记)."""
    with transaction.atomic(durable=True):
        return resident_save(resident=None, actor=actor, household=household, name=name, **fields)


def resident_update(*, resident: Resident, actor: Any, **fields: Any) -> Resident:
    """Change a resident's record; unchanged fields may be omitted."""
    with transaction.atomic(durable=True):
        locked = Resident.objects.select_for_update().get(pk=resident.pk)
        fields.setdefault("household", locked.household)
        fields.setdefault("name", locked.name)
        fields.setdefault("phone", locked.phone)
        return resident_save(resident=locked, actor=actor, **fields)


def resident_move_out(*, resident: Resident, actor: Any, on: dt.date) -> Resident:
    """Record that a resident moved out (迁出); the record stays for history."""
    return resident_update(
        resident=resident, actor=actor, status=Resident.Status.MOVED_OUT, moved_out_on=on
    )


def membership_grant(*, actor: Any, user: Any, role: str, **area: Any) -> Membership:
    """Give `user` a role in an area or organization (e.g. grid worker of 第一网格)."""
    with transaction.atomic(durable=True):
        membership = Membership(user=user, role=role, **area)
        membership.full_clean()
        membership._history_user = actor  # type: ignore[attr-defined]
        membership.save()
        return membership


# ---------------------------------------------------------------------------------------
# Addresses created by an import (a building must exist; its units and rooms may not yet).


@transaction.atomic(savepoint=False)
def unit_create(*, actor: Any, building: Building, number: str) -> Unit:
    """Add a unit (单元) to a building."""
    unit = Unit(building=building, number=number.strip())
    unit.full_clean()
    unit._history_user = actor  # type: ignore[attr-defined]
    unit.save()
    return unit


@transaction.atomic(savepoint=False)
def household_create(*, actor: Any, unit: Unit, room: str) -> Household:
    """Add a household (户) to a unit, by its room number."""
    household = Household(unit=unit, room=room.strip())
    household.full_clean()
    household._history_user = actor  # type: ignore[attr-defined]
    household.save()
    return household


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

        enqueue_on_commit(residents_import_apply_task, job_id=job.pk)
    progress_set(job.pk, phase="applying", done=0, total=job.total_rows)
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
