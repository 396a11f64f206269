"""Staff pages of the registry (社区工作人员): Excel import and export of residents (台账).

Import is for those who may change the registry (community staff and admins); export for
anyone who may see it, limited to what they see. Everyone else gets 404 (DESIGN §3).
"""

from __future__ import annotations

import logging
import tempfile

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from community import registry_export, registry_import, selectors, services
from community.forms import ResidentFilterForm, ResidentImportForm
from community.models import ImportJob
from community.privacy import hash_id_number, normalize_id_number
from community.scoping import can_edit_registry, can_view_registry

logger = logging.getLogger(__name__)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_ERRORS_PER_PAGE = 100


def _require_editor(request: HttpRequest) -> None:
    if not can_edit_registry(request.user):
        raise Http404


def _job(request: HttpRequest, pk: int) -> ImportJob:
    _require_editor(request)
    try:
        return selectors.import_job_get(user=request.user, pk=pk)
    except ImportJob.DoesNotExist:
        raise Http404 from None


@login_required
def resident_import(request: HttpRequest) -> HttpResponse:
    """Upload a registry workbook; lists the recent imports the user may see."""
    _require_editor(request)
    if request.method == "POST":
        form = ResidentImportForm(request.POST, request.FILES)
        if form.is_valid():
            job = services.import_job_create(actor=request.user, upload=form.cleaned_data["file"])
            return redirect("community:resident-import-job", pk=job.pk)
    else:
        form = ResidentImportForm()
    jobs = selectors.import_job_list(user=request.user)[:20]
    return render(
        request,
        "community/staff/import_start.html",
        {
            "form": form,
            "jobs": jobs,
            "columns": registry_import.COLUMNS,
            "max_rows": registry_import.max_rows(),
            "max_mb": registry_import.max_bytes() // (1024 * 1024),
        },
    )


@login_required
@require_GET
def resident_import_template(request: HttpRequest) -> HttpResponse:
    """The empty workbook to fill in."""
    _require_editor(request)
    response = HttpResponse(registry_import.template_workbook(), content_type=XLSX)
    response["Content-Disposition"] = registry_export.content_disposition(
        "居民台账导入模板.xlsx", "residents-import-template.xlsx"
    )
    return response


@login_required
@require_GET
def resident_import_job(request: HttpRequest, pk: int) -> HttpResponse:
    """One import: progress while it runs, then the preview or the result."""
    job = _job(request, pk)
    errors = [
        {**entry, "message": registry_import.error_message(entry)} for entry in job.errors or []
    ]
    page = Paginator(errors, _ERRORS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "community/staff/import_job.html",
        {
            "job": job,
            "Status": ImportJob.Status,
            "errors_page": page,
            "page": page,
            "progress": selectors.import_job_progress(job=job),
            "preview": job.preview or {},
            "can_cancel": job.status
            in (ImportJob.Status.UPLOADED, ImportJob.Status.PREVIEW, ImportJob.Status.INVALID),
        },
    )


@login_required
@require_GET
def resident_import_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The progress bar alone, polled by htmx; once the job stops, the page reloads."""
    job = _job(request, pk)
    response = render(
        request,
        "community/staff/_import_progress.html",
        {"job": job, "progress": selectors.import_job_progress(job=job)},
    )
    if not job.is_running and request.headers.get("HX-Request"):
        response["HX-Refresh"] = "true"
    return response


@login_required
@require_POST
def resident_import_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job(request, pk)
    try:
        services.import_job_confirm(job=job, actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("community:resident-import-job", pk=job.pk)


@login_required
@require_POST
def resident_import_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job(request, pk)
    try:
        services.import_job_cancel(job=job, actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.info(request, _("The import was cancelled and its file deleted."))
    return redirect("community:resident-import-job", pk=job.pk)


def _export_form(request: HttpRequest) -> ResidentFilterForm:
    if not can_view_registry(request.user):
        raise Http404
    return ResidentFilterForm(request.GET or None, user=request.user)


def _id_number_out_of_url(request: HttpRequest) -> HttpResponseRedirect | None:
    """An ID number typed into the search box (a GET form): continue with its keyed hash,
    so the number does not stay in the address bar, the history or an access log."""
    search = request.GET.get("search", "")
    if not selectors.is_id_number_like(search):
        return None
    params = request.GET.copy()
    del params["search"]
    params["idh"] = hash_id_number(normalize_id_number(search))
    return HttpResponseRedirect(f"{request.path}?{params.urlencode()}")


@login_required
@require_GET
def resident_export(request: HttpRequest) -> HttpResponse:
    """Choose filters, see how many residents match, download them."""
    form = _export_form(request)
    if redirect_to := _id_number_out_of_url(request):
        return redirect_to
    count = None
    if form.is_bound and form.is_valid():
        count = selectors.resident_list(user=request.user, **form.selector_filters()).count()
    elif not form.is_bound:
        count = selectors.resident_list(user=request.user).count()
    return render(
        request,
        "community/staff/export.html",
        {"form": form, "count": count, "query": request.GET.urlencode()},
    )


@login_required
@require_GET
def resident_export_xlsx(request: HttpRequest) -> HttpResponseBase:
    """The residents in the user's area matching the filters, as a masked workbook."""
    form = _export_form(request)
    if redirect_to := _id_number_out_of_url(request):
        return redirect_to
    if form.is_bound and not form.is_valid():
        return render(
            request, "community/staff/export.html", {"form": form, "count": None}, status=400
        )
    filters = form.selector_filters() if form.is_bound else {}
    residents = selectors.resident_export_list(user=request.user, **filters)
    # Rows stream into a temporary file (write-only mode), which is streamed back: memory
    # stays flat for any size; the queryset is read in chunks with its tags prefetched.
    target = tempfile.TemporaryFile()  # noqa: SIM115 (FileResponse closes it)
    rows = registry_export.residents_workbook_write(
        residents=residents.iterator(chunk_size=1000), target=target
    )
    target.seek(0)
    logger.info(
        "resident export by user %s: %s rows, filters %s",
        request.user.pk,
        rows,
        {k: v for k, v in filters.items() if v and k not in ("search", "id_number_hash")},
    )
    today = timezone.localdate()
    response = FileResponse(target, content_type=XLSX)
    response["Content-Disposition"] = registry_export.content_disposition(
        registry_export.export_file_name(today), f"residents-{today:%Y%m%d}.xlsx"
    )
    response["Cache-Control"] = "no-store"
    return response
