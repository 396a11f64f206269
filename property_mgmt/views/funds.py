"""Pages of the self-managed funds (自管委资金): phone-first pages for the committee (the
fund, income, expenses from request to booking, corrections), the public ledger of an
estate (printable for the noticeboard) and the office page that opens a fund.

Every page asks a selector for what the user may see (404 otherwise) and one service for
what they may do; a refusal of the service is shown in its own words.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from community.models import Estate
from property_mgmt.attachments import expense_attachment_open
from property_mgmt.models import ExpenseAttachment, ExpenseRequest, Fund, FundEntry
from property_mgmt.selectors import funds as selectors
from property_mgmt.selectors import funds_pages as pages
from property_mgmt.services import funds as services
from property_mgmt.views import funds_forms as forms
from property_mgmt.views.common import refusal, yuan

PAGE_SIZE = 20
Status = ExpenseRequest.Status


def _estate_fund(request: HttpRequest, estate_id: int) -> tuple[Estate, Fund]:
    try:
        estate = pages.fund_estate_for(user=request.user, estate_id=estate_id)
        return estate, selectors.fund_for(user=request.user, estate=estate)
    except (Estate.DoesNotExist, Fund.DoesNotExist):
        raise Http404 from None


def _expense(request: HttpRequest, pk: int) -> ExpenseRequest:
    try:
        return pages.expense_for(user=request.user, pk=pk)
    except ExpenseRequest.DoesNotExist:
        raise Http404 from None


def _with_amount(rows: list[Any]) -> list[Any]:
    for row in rows:
        row.amount_display = yuan(row.amount)
    return rows


# --- The committee's pages --------------------------------------------------------------


@login_required
@require_safe
def fund_index(request: HttpRequest) -> HttpResponse:
    funds = pages.funds_visible(user=request.user)
    ledgers = pages.ledgers_visible(user=request.user)
    if len(funds) == 1 and len(ledgers) <= 1:
        return redirect("property:fund-page", funds[0].estate_id)
    if not funds and len(ledgers) == 1:
        return redirect("property:fund-ledger", ledgers[0].estate_id)
    rows = [(f, yuan(f.balance)) for f in funds]
    return render(request, "property_mgmt/funds/index.html", {"rows": rows, "ledgers": ledgers})


@login_required
@require_safe
def fund_page(request: HttpRequest, estate_id: int) -> HttpResponse:
    estate, fund = _estate_fund(request, estate_id)
    queue = selectors.expense_queue(user=request.user, fund=fund)
    for rows in (queue.to_decide, queue.to_pay, queue.to_book, queue.open):
        _with_amount(rows)
    entries = _with_amount(list(pages.fund_entries(user=request.user, fund=fund)[:10]))
    user_id = request.user.pk
    return render(
        request,
        "property_mgmt/funds/fund.html",
        {
            "estate": estate,
            "fund": fund,
            "balance": yuan(fund.balance),
            "queue": queue,
            "entries": entries,
            "is_keeper": fund.keeper_id == user_id,
            "is_bookkeeper": fund.bookkeeper_id == user_id,
            "is_member": selectors.is_committee_member(request.user, estate.pk),
        },
    )


@login_required
@require_safe
def fund_entries(request: HttpRequest, estate_id: int) -> HttpResponse:
    estate, fund = _estate_fund(request, estate_id)
    page = Paginator(pages.fund_entries(user=request.user, fund=fund), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    _with_amount(list(page.object_list))
    return render(
        request,
        "property_mgmt/funds/entries.html",
        {
            "estate": estate,
            "fund": fund,
            "page": page,
            "is_bookkeeper": fund.bookkeeper_id == request.user.pk,
        },
    )


def _building_id(request: HttpRequest) -> int | None:
    raw = request.POST.get("building") or request.GET.get("building") or ""
    return int(raw) if raw.isdigit() and len(raw) < 18 else None


@login_required
def fund_income(request: HttpRequest, estate_id: int) -> HttpResponse:
    estate, fund = _estate_fund(request, estate_id)
    if request.user.pk not in (fund.keeper_id, fund.bookkeeper_id):
        messages.error(request, _("Only the keeper or the bookkeeper may record income."))
        return redirect("property:fund-page", estate.pk)
    building_id = _building_id(request)
    households = (
        pages.building_households(estate=estate, building_id=building_id) if building_id else []
    )
    initial = {"occurred_on": timezone.localdate(), "kind": FundEntry.Kind.FEE.value}
    if fund.annual_fee:
        initial["amount"] = f"{fund.annual_fee:.2f}"
    if request.method == "POST":
        form = forms.IncomeForm(request.POST, households=households)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.fund_income_record(
                    fund=fund,
                    actor=request.user,
                    kind=data["kind"],
                    amount=data["amount"],
                    occurred_on=data["occurred_on"],
                    household=form.households.get(data["household"]),
                    payer_name=data["payer_name"],
                    description=data["description"],
                    now=timezone.now(),
                )
            except ValidationError as exc:
                forms.apply_error(form, exc)
            except PermissionDenied as exc:
                messages.error(request, refusal(exc))
                return redirect("property:fund-page", estate.pk)
            else:
                messages.success(request, _("Income recorded."))
                return redirect("property:fund-page", estate.pk)
    else:
        form = forms.IncomeForm(initial=initial, households=households)
    return render(
        request,
        "property_mgmt/funds/income.html",
        {
            "estate": estate,
            "fund": fund,
            "form": form,
            "buildings": pages.estate_buildings(estate=estate),
            "building_id": building_id,
        },
    )


@login_required
def expense_new(request: HttpRequest, estate_id: int) -> HttpResponse:
    estate, fund = _estate_fund(request, estate_id)
    if request.method == "POST":
        form = forms.ExpenseForm(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            try:
                expense = services.expense_request(
                    fund=fund,
                    actor=request.user,
                    purpose=data["purpose"],
                    amount=data["amount"],
                    photos=data["photos"],
                    now=timezone.now(),
                )
            except ValidationError as exc:
                forms.apply_error(form, exc)
            except PermissionDenied as exc:
                messages.error(request, refusal(exc))
                return redirect("property:fund-page", estate.pk)
            else:
                messages.success(
                    request, _("Expense requested: another committee member must approve it.")
                )
                return redirect("property:fund-expense", expense.pk)
    else:
        form = forms.ExpenseForm()
    return render(
        request,
        "property_mgmt/funds/expense_new.html",
        {"estate": estate, "fund": fund, "form": form},
    )


@login_required
@require_safe
def expense_page(request: HttpRequest, pk: int) -> HttpResponse:
    expense = _expense(request, pk)
    fund = expense.fund
    user_id = request.user.pk
    Kind = ExpenseAttachment.Kind
    attachments = pages.expense_attachments(expense=expense)
    waiting = expense.status == Status.REQUESTED
    return render(
        request,
        "property_mgmt/funds/expense.html",
        {
            "expense": expense,
            "fund": fund,
            "estate": fund.estate,
            "amount": yuan(expense.amount),
            "quotes": [a for a in attachments if a.kind == Kind.QUOTE],
            "receipts": [a for a in attachments if a.kind == Kind.RECEIPT],
            "may_decide": waiting
            and user_id != expense.requested_by_id
            and selectors.is_committee_member(request.user, fund.estate_id),
            "may_pay": expense.status == Status.APPROVED and user_id == fund.keeper_id,
            "may_book": expense.status == Status.PAID
            and user_id == fund.bookkeeper_id
            and user_id != expense.paid_by_id,
            "decision_form": forms.DecisionForm(),
            "receipt_form": forms.ReceiptForm(),
        },
    )


def _decide(request: HttpRequest, expense: ExpenseRequest, *, approve: bool) -> str:
    form = forms.DecisionForm(request.POST)
    form.is_valid()
    services.expense_decide(
        expense=expense,
        actor=request.user,
        approve=approve,
        note=form.cleaned_data.get("note", ""),
        now=timezone.now(),
    )
    return _("Expense approved.") if approve else _("Expense rejected.")


def _approve(request: HttpRequest, expense: ExpenseRequest) -> str:
    return _decide(request, expense, approve=True)


def _reject(request: HttpRequest, expense: ExpenseRequest) -> str:
    return _decide(request, expense, approve=False)


def _pay(request: HttpRequest, expense: ExpenseRequest) -> str:
    form = forms.ReceiptForm(request.POST, request.FILES)
    if not form.is_valid():
        raise ValidationError([e for errors in form.errors.values() for e in errors])
    services.expense_pay(
        expense=expense,
        actor=request.user,
        receipts=form.cleaned_data["photos"],
        now=timezone.now(),
    )
    return _("Payment recorded.")


def _book(request: HttpRequest, expense: ExpenseRequest) -> str:
    services.expense_book(expense=expense, actor=request.user, now=timezone.now())
    return _("Expense booked.")


ACTIONS = {"approve": _approve, "reject": _reject, "pay": _pay, "book": _book}


@login_required
@require_POST
def expense_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    handler = ACTIONS.get(action)
    if handler is None:
        raise Http404
    expense = _expense(request, pk)
    try:
        done = handler(request, expense)
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, refusal(exc))
    else:
        messages.success(request, done)
    return redirect("property:fund-expense", expense.pk)


@login_required
@require_safe
def expense_photo(request: HttpRequest, pk: int) -> FileResponse:
    try:
        attachment, handle = expense_attachment_open(user=request.user, pk=pk)
    except (ExpenseAttachment.DoesNotExist, FileNotFoundError):
        raise Http404 from None
    response = FileResponse(handle, content_type=attachment.content_type)
    response["Content-Disposition"] = "inline"
    response["X-Content-Type-Options"] = "nosniff"
    patch_cache_control(response, private=True, max_age=3600)
    return response


@login_required
def entry_correct(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        entry = pages.entry_for(user=request.user, pk=pk)
    except FundEntry.DoesNotExist:
        raise Http404 from None
    fund = entry.fund
    if request.method == "POST":
        form = forms.CorrectionForm(request.POST)
        if form.is_valid():
            try:
                services.fund_entry_correct(
                    entry=entry,
                    actor=request.user,
                    amount=form.cleaned_data["amount"],
                    reason=form.cleaned_data["reason"],
                    now=timezone.now(),
                )
            except ValidationError as exc:
                forms.apply_error(form, exc)
            except PermissionDenied as exc:
                messages.error(request, refusal(exc))
                return redirect("property:fund-page", fund.estate_id)
            else:
                messages.success(request, _("Correction recorded."))
                return redirect("property:fund-entries", fund.estate_id)
    else:
        form = forms.CorrectionForm()
    return render(
        request,
        "property_mgmt/funds/correct.html",
        {
            "entry": entry,
            "fund": fund,
            "estate": fund.estate,
            "amount": yuan(entry.amount),
            "form": form,
        },
    )


# --- The public ledger ------------------------------------------------------------------


def _year(request: HttpRequest) -> int:
    raw = request.GET.get("year", "")
    today = timezone.localdate()
    if raw.isdigit() and 2000 <= int(raw) <= today.year + 1:
        return int(raw)
    return today.year


def _ledger_view(ledger: selectors.PublicLedger) -> dict[str, Any]:
    """The ledger with its amounts as pages show money (¥1,234.50)."""
    months = []
    for month in ledger.months:
        lines = [
            {"line": line, "amount": yuan(line.amount), "balance": yuan(line.balance)}
            for line in month.lines
        ]
        months.append(
            {
                "month": month,
                "label": dt.date(ledger.year, month.month, 1),
                "lines": lines,
                "income": yuan(month.income),
                "expense": yuan(month.expense),
                "corrections": yuan(month.corrections),
                "opening": yuan(month.opening_balance),
                "closing": yuan(month.closing_balance),
            }
        )
    return {
        "ledger": ledger,
        "months": months,
        "opening": yuan(ledger.opening_balance),
        "closing": yuan(ledger.closing_balance),
        "income": yuan(ledger.income),
        "expense": yuan(ledger.expense),
        "balance_now": yuan(ledger.balance_now),
    }


@login_required
@require_safe
def fund_ledger(request: HttpRequest, estate_id: int) -> HttpResponse:
    try:
        estate = pages.ledger_estate_for(user=request.user, estate_id=estate_id)
    except Estate.DoesNotExist:
        raise Http404 from None
    year = _year(request)
    ledger = selectors.public_ledger(estate=estate, year=year)
    return render(
        request,
        "property_mgmt/funds/ledger.html",
        {
            "estate": estate,
            "year": year,
            "previous_year": year - 1,
            "next_year": year + 1 if year < timezone.localdate().year else None,
            **_ledger_view(ledger),
        },
    )


# --- The office -------------------------------------------------------------------------


@login_required
@require_safe
def fund_office(request: HttpRequest) -> HttpResponse:
    estates = pages.office_estates(user=request.user)
    if not estates:
        raise Http404
    rows = []
    for estate in estates:
        fund = getattr(estate, "fund", None)
        rows.append((estate, fund, yuan(fund.balance) if fund else None))
    return render(request, "property_mgmt/funds/office.html", {"rows": rows})


@login_required
def fund_setup(request: HttpRequest, estate_id: int) -> HttpResponse:
    try:
        estate, fund = pages.office_estate_for(user=request.user, estate_id=estate_id)
    except Estate.DoesNotExist:
        raise Http404 from None
    members = pages.committee_members(estate=estate)
    form: forms.OfficersForm
    if fund is None:
        form = forms.FundCreateForm(
            request.POST or None,
            members=members,
            initial={"name": _("%(estate)s self-managed fund") % {"estate": estate.name}},
        )
    else:
        form = forms.OfficersForm(
            request.POST or None,
            members=members,
            initial={"keeper": fund.keeper_id, "bookkeeper": fund.bookkeeper_id},
        )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        keeper, bookkeeper = form.members.get(data["keeper"]), form.members.get(data["bookkeeper"])
        try:
            if fund is None:
                services.fund_create(
                    actor=request.user,
                    estate=estate,
                    name=data["name"],
                    keeper=keeper,
                    bookkeeper=bookkeeper,
                    annual_fee=data["annual_fee"],
                    now=timezone.now(),
                )
                done = _("The fund is open.")
            else:
                services.fund_officers_change(
                    fund=fund,
                    actor=request.user,
                    keeper=keeper,
                    bookkeeper=bookkeeper,
                    now=timezone.now(),
                )
                done = _("Officers changed.")
        except ValidationError as exc:
            forms.apply_error(form, exc)
        except PermissionDenied as exc:
            messages.error(request, refusal(exc))
            return redirect("property:fund-office")
        else:
            messages.success(request, done)
            return redirect("property:fund-office")
    return render(
        request,
        "property_mgmt/funds/setup.html",
        {"estate": estate, "fund": fund, "form": form, "members": members},
    )
