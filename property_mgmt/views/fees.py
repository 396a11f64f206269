"""Pages of property fees and contracts (物业费 / 物业服务合同).

Desktop pages for the community office (contracts of its estates; an estate's month of
bills, collection rates, arrears, payments) and for property staff (the same fee pages
for the estates their company serves, no contracts); one phone page for residents (my
bills). Every page asks a selector for what the user may see (404 otherwise) and one
service for what they may do; a service's refusal is shown in its own words.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Page, Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from community.models import Community, Estate
from property_mgmt.fees_excel import arrears_workbook, payments_import
from property_mgmt.models import FeeBill, ServiceContract
from property_mgmt.selectors import api_pages
from property_mgmt.selectors import fees as selectors
from property_mgmt.selectors import fees_pages as pages
from property_mgmt.services.contracts import contract_create, contract_for, is_office
from property_mgmt.services.fees import (
    BillRun,
    bills_generate,
    bills_release,
    fee_payment_record,
    month_end,
)
from property_mgmt.views import fees_forms as forms
from property_mgmt.views.common import refusal, yuan_text

PAGE_SIZE = 20
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# --- what every page shares ----------------------------------------------------------------


def percent(rate: Decimal | None) -> str:
    """A collection rate (a fraction) as 51.2%; a dash when nothing was billed."""
    if rate is None:
        return "—"
    return f"{rate * 100:.1f}%"


def _month(raw: str | None, today: dt.date) -> dt.date:
    """The first day of the month asked for as YYYY-MM; this month when unreadable."""
    try:
        parsed = dt.datetime.strptime((raw or "")[:7], "%Y-%m").date()
    except ValueError:
        return today.replace(day=1)
    if not 2000 <= parsed.year <= 2100:
        return today.replace(day=1)
    return parsed


def _shift(month: dt.date, by: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + by
    return dt.date(index // 12, index % 12 + 1, 1)


def _page(request: HttpRequest, items: Any) -> Page[Any]:
    return Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))


def _estate(request: HttpRequest, pk: int) -> Estate:
    try:
        return pages.fees_estate_for(user=request.user, pk=pk)
    except Estate.DoesNotExist:
        raise Http404 from None


def _contract(estate: Estate, month: dt.date) -> ServiceContract | None:
    """The contract that bills the month: in force on its first day, else on its last
    (a contract that starts mid-month still bills that month)."""
    return contract_for(estate=estate, on=month) or contract_for(estate=estate, on=month_end(month))


def _estate_url(name: str, estate: Estate, month: dt.date | None = None, **params: Any) -> str:
    query = {"month": f"{month:%Y-%m}"} if month is not None else {}
    query.update(params)
    url = reverse(f"property:{name}", args=[estate.pk])
    return f"{url}?{urlencode(query)}" if query else url


@dataclass(frozen=True)
class RateRow:
    """A collection-rate row as the table shows it."""

    label: str
    households: int
    bills_paid: int
    billed: str
    paid: str
    outstanding: str
    rate: str


def _rate_row(row: selectors.Collection, label: str | None = None) -> RateRow:
    return RateRow(
        label=row.label if label is None else label,
        households=row.households,
        bills_paid=row.bills_paid,
        billed=yuan_text(row.billed),
        paid=yuan_text(row.paid),
        outstanding=yuan_text(row.outstanding),
        rate=percent(row.rate),
    )


def _render_estate(
    request: HttpRequest,
    estate: Estate,
    month: dt.date,
    *,
    run: BillRun | None = None,
    status: int = 200,
) -> HttpResponse:
    user = request.user
    contract = _contract(estate, month)
    rates = selectors.collection_rates(user=user, estate=estate, period=month)
    year = selectors.collection_rate_by_month(user=user, estate=estate, year=month.year)
    skipped = (
        pages.household_labels(estate=estate, ids=run.skipped_no_area)
        if run is not None and run.skipped_no_area
        else []
    )
    office = is_office(user, estate.community_id)
    context = {
        "estate": estate,
        "month": month,
        "previous": _shift(month, -1),
        "next": _shift(month, 1),
        "contract": contract,
        "serve_first": contract is not None
        and contract.billing_mode == ServiceContract.BillingMode.SERVE_FIRST,
        "may_release": office,
        "is_office": office,
        "buildings": [_rate_row(r) for r in rates.rows],
        "total": _rate_row(rates.total, _("Estate total")) if rates.rows else None,
        "months": [_rate_row(r) for r in year.rows],
        "year_total": _rate_row(year.total, str(month.year)) if year.rows else None,
        "run": run,
        "skipped": skipped,
        "section": "month",
    }
    return render(request, "property_mgmt/fees/estate.html", context, status=status)


# --- the office's and property staff's fee pages ---------------------------------------------


@login_required
@require_safe
def fees_index(request: HttpRequest) -> HttpResponse:
    """The estates whose fees the user keeps; 404 for anyone who keeps none."""
    estates = pages.fees_estates(user=request.user)
    if not estates:
        raise Http404
    month = _month(None, timezone.localdate())
    return render(
        request,
        "property_mgmt/fees/index.html",
        {
            "estates": estates,
            "month": month,
            "is_office": bool(pages.office_communities(user=request.user)),
        },
    )


@login_required
@require_safe
def fees_estate(request: HttpRequest, pk: int) -> HttpResponse:
    """An estate's month: bills to generate or release, collection per building and the
    year by month."""
    estate = _estate(request, pk)
    return _render_estate(request, estate, _month(request.GET.get("month"), timezone.localdate()))


@login_required
@require_POST
def fees_generate(request: HttpRequest, pk: int) -> HttpResponse:
    """Bill every household of the estate for the month (running it twice bills once)."""
    estate = _estate(request, pk)
    month = _month(request.POST.get("month"), timezone.localdate())
    contract = _contract(estate, month)
    if contract is None:
        messages.error(
            request, _("The estate has no contract for %(month)s.") % {"month": f"{month:%Y-%m}"}
        )
        return redirect(_estate_url("fees-estate", estate, month))
    try:
        run = bills_generate(
            contract=contract, period=month, now=timezone.now(), actor=request.user
        )
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, refusal(exc))
        return redirect(_estate_url("fees-estate", estate, month))
    # Rendered, not redirected: the households skipped for lack of a floor area are the
    # run's own result, and running it again (a reload) bills nobody twice.
    return _render_estate(request, estate, month, run=run)


@login_required
@require_POST
def fees_release(request: HttpRequest, pk: int) -> HttpResponse:
    """Make the serve-first month payable in the buildings whose satisfaction reached the
    contract's threshold; the office decides when to look (先服务后收费)."""
    estate = _estate(request, pk)
    month = _month(request.POST.get("month"), timezone.localdate())
    back = redirect(_estate_url("fees-estate", estate, month))
    contract = _contract(estate, month)
    if contract is None or contract.billing_mode != ServiceContract.BillingMode.SERVE_FIRST:
        messages.error(
            request, _("This month is not billed serve-first: its bills are payable already.")
        )
        return back
    try:
        released = bills_release(
            contract=contract, period=month, now=timezone.now(), actor=request.user
        )
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, refusal(exc))
        return back
    if released:
        messages.success(
            request,
            _("Bills released in %(count)s building(s): they can be paid now.")
            % {"count": len(released)},
        )
    else:
        messages.info(
            request,
            _(
                "No building was released: none has reached the satisfaction threshold of "
                "%(threshold)s, or its bills were released already."
            )
            % {"threshold": contract.serve_first_threshold},
        )
    return back


@login_required
@require_safe
def fees_bills(request: HttpRequest, pk: int) -> HttpResponse:
    """The estate's bills of a month, by building and household, to record payments."""
    estate = _estate(request, pk)
    month = _month(request.GET.get("month"), timezone.localdate())
    page = _page(request, api_pages.estate_bills(user=request.user, estate=estate, period=month))
    for bill in page.object_list:
        bill.amount_display = yuan_text(bill.amount)
        bill.paid_display = yuan_text(bill.paid_amount)
        bill.outstanding_display = yuan_text(bill.outstanding)
    return render(
        request,
        "property_mgmt/fees/bills.html",
        {
            "estate": estate,
            "month": month,
            "page": page,
            "query": urlencode({"month": f"{month:%Y-%m}"}),
            "section": "bills",
        },
    )


def _bill(request: HttpRequest, pk: int) -> FeeBill:
    try:
        return pages.fees_bill_for(user=request.user, pk=pk)
    except FeeBill.DoesNotExist:
        raise Http404 from None


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def fees_payment(request: HttpRequest, pk: int) -> HttpResponse:
    """Record money received against one bill (cash, transfer, WeChat, Alipay)."""
    bill = _bill(request, pk)
    outstanding = bill.amount - bill.paid_amount
    if request.method == "POST":
        form = forms.PaymentForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                payment = fee_payment_record(
                    bill=bill,
                    amount=data["amount"],
                    method=data["method"],
                    paid_at=data["paid_at"],
                    actor=request.user,
                    reference=data["reference"],
                    now=timezone.now(),
                )
            except ValidationError as exc:
                forms.apply_error(form, exc)
            except PermissionDenied as exc:
                messages.error(request, refusal(exc))
            else:
                if getattr(payment, "replayed", False):
                    messages.info(
                        request, _("This receipt number was recorded already; nothing changed.")
                    )
                elif getattr(payment, "award", None) is not None:
                    messages.success(
                        request,
                        _("Payment recorded. Paid in full on time: the household earns points."),
                    )
                else:
                    messages.success(request, _("Payment recorded."))
                return redirect(_estate_url("fees-bills", bill.estate, bill.period))
    else:
        initial: dict[str, Any] = {"paid_at": timezone.localtime().replace(second=0, microsecond=0)}
        if outstanding > 0:
            initial["amount"] = outstanding
        form = forms.PaymentForm(initial=initial)
    return render(
        request,
        "property_mgmt/fees/payment.html",
        {
            "estate": bill.estate,
            "bill": bill,
            "month": bill.period,
            "amount": yuan_text(bill.amount),
            "paid": yuan_text(bill.paid_amount),
            "outstanding": yuan_text(outstanding),
            "form": form,
            "section": "bills",
        },
    )


@dataclass(frozen=True)
class ArrearsLine:
    """An arrears row as the list shows it."""

    row: selectors.ArrearsRow
    outstanding: str


@login_required
@require_safe
def fees_arrears(request: HttpRequest, pk: int) -> HttpResponse:
    """Households with payable bills unpaid after their due date, most owed first."""
    estate = _estate(request, pk)
    today = timezone.localdate()
    rows = selectors.arrears(user=request.user, estate=estate, as_of=today)
    page = _page(request, rows)
    page.object_list = [ArrearsLine(row, yuan_text(row.outstanding)) for row in page.object_list]
    return render(
        request,
        "property_mgmt/fees/arrears.html",
        {
            "estate": estate,
            "today": today,
            "page": page,
            "count": len(rows),
            "owed": yuan_text(sum((r.outstanding for r in rows), Decimal("0.00"))),
            "query": "",
            "section": "arrears",
        },
    )


@login_required
@require_safe
def fees_arrears_export(request: HttpRequest, pk: int) -> HttpResponse:
    """The arrears list as an .xlsx download (phones masked)."""
    estate = _estate(request, pk)
    today = timezone.localdate()
    content = arrears_workbook(selectors.arrears(user=request.user, estate=estate, as_of=today))
    response = HttpResponse(content, content_type=XLSX)
    # A Chinese name: Django writes it as RFC 5987 filename*=utf-8''…, which browsers
    # (and Excel's "open") decode, with an ASCII fallback for old clients.
    filename = f"{_('Arrears')}-{estate.name}-{today:%Y%m%d}.xlsx"
    response["Content-Disposition"] = content_disposition_header(True, filename)
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def fees_import(request: HttpRequest, pk: int) -> HttpResponse:
    """Upload an .xlsx of payments: every row checked first, all or nothing."""
    estate = _estate(request, pk)
    result = None
    if request.method == "POST":
        form = forms.ImportForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                result = payments_import(
                    file=form.cleaned_data["file"],
                    actor=request.user,
                    now=timezone.now(),
                    estate=estate,
                )
            except ValidationError as exc:
                forms.apply_error(form, exc)
            except PermissionDenied as exc:
                messages.error(request, refusal(exc))
    else:
        form = forms.ImportForm()
    return render(
        request,
        "property_mgmt/fees/import.html",
        {"estate": estate, "form": form, "result": result, "section": "import"},
    )


# --- the office's contracts ----------------------------------------------------------------


def _office_community(request: HttpRequest) -> tuple[Community, list[Community]]:
    communities = pages.office_communities(user=request.user)
    if not communities:
        raise Http404
    wanted = request.GET.get("community", "")
    if not wanted:
        return communities[0], communities
    chosen = next((c for c in communities if str(c.pk) == wanted), None)
    if chosen is None:
        raise Http404
    return chosen, communities


@dataclass(frozen=True)
class ContractLine:
    """A contract as the list shows it."""

    contract: ServiceContract
    standard: str
    in_force: bool


@login_required
@require_safe
def contracts(request: HttpRequest) -> HttpResponse:
    """The service contracts of the community's estates, newest first."""
    community, communities = _office_community(request)
    page = _page(request, pages.community_contracts(community=community))
    today = timezone.localdate()
    page.object_list = [
        ContractLine(c, yuan_text(c.fee_standard), c.starts_on <= today < c.ends_on)
        for c in page.object_list
    ]
    return render(
        request,
        "property_mgmt/fees/contracts.html",
        {
            "community": community,
            "communities": communities,
            "page": page,
            "query": urlencode({"community": community.pk}),
        },
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def contract_new(request: HttpRequest) -> HttpResponse:
    """Register a provider's contract for one of the community's estates."""
    community, communities = _office_community(request)
    choices = {
        "providers": pages.contract_providers(community=community),
        "estates": pages.community_estates(community=community),
        "categories": pages.scope_category_choices(),
    }
    if request.method == "POST":
        form = forms.ContractForm(request.POST, **choices)
        if form.is_valid():
            data = form.cleaned_data
            try:
                contract_create(
                    actor=request.user,
                    provider=data["provider"],
                    estate=data["estate"],
                    starts_on=data["starts_on"],
                    ends_on=data["ends_on"],
                    fee_basis=data["fee_basis"],
                    fee_standard=data["fee_standard"],
                    billing_mode=data["billing_mode"],
                    serve_first_threshold=data["serve_first_threshold"],
                    due_days=data["due_days"],
                    scope_categories=data["scope_categories"],
                    promises=data["promises"],
                    now=timezone.now(),
                )
            except ValidationError as exc:
                forms.apply_error(form, exc)
            except PermissionDenied as exc:
                messages.error(request, refusal(exc))
            else:
                messages.success(request, _("Contract registered."))
                return redirect(
                    f"{reverse('property:fees-contracts')}?{urlencode({'community': community.pk})}"
                )
    else:
        today = timezone.localdate()
        form = forms.ContractForm(
            initial={
                "starts_on": today.replace(month=1, day=1),
                "ends_on": dt.date(today.year + 1, 1, 1),
                "due_days": 30,
                "promises": "1715",
            },
            **choices,
        )
    return render(
        request,
        "property_mgmt/fees/contract_new.html",
        {"community": community, "communities": communities, "form": form},
    )


# --- the resident's phone page ---------------------------------------------------------------


@login_required
@require_safe
def my_bills(request: HttpRequest) -> HttpResponse:
    """The household's bills, newest month first: what is owed, by when, payable or not."""
    page = _page(request, api_pages.my_bills(user=request.user))
    today = timezone.localdate()
    for bill in page.object_list:
        bill.amount_display = yuan_text(bill.amount)
        bill.paid_display = yuan_text(bill.paid_amount)
        bill.outstanding_display = yuan_text(bill.outstanding)
        bill.overdue = bill.outstanding > 0 and bill.payable and bill.due_on < today
    return render(
        request,
        "property_mgmt/fees/my_bills.html",
        {"page": page, "has_household": bool(api_pages.my_household_ids(user=request.user))},
    )
