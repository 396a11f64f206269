"""The office's dispatch board (派单台): new, unassigned, overdue and due-soon grievances.

For community staff and admins (who also accept and dispatch in bulk), street supervisors
(who read) and superusers; anyone else gets 404, like every page of an area they do not
oversee. "Time left" is computed from the clock columns when the page renders, so the
board is right without JavaScript and without a sweep; htmx refreshes the lists every
minute while nothing is ticked.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_POST

from community.models import Community, Estate, Organization
from grievances.models import Category, Grievance, SlaClockSpec
from grievances.selectors.e_board import (
    BOARD_LISTS,
    DUE_SOON,
    board_categories,
    board_communities,
    board_estates,
    board_list,
    board_may_act,
    board_may_view,
    board_receivers,
)
from grievances.services import grievances_bulk_accept, grievances_bulk_dispatch
from grievances.views.detail import STATUS_BADGE, time_left_text

PAGE_SIZE = 20
#: At most this many grievances per bulk action (one transaction each).
BULK_MAX = 100
#: The filters of the board, kept across pages, refreshes, bulk actions and the export.
FILTER_FIELDS = ("community", "estate", "category", "handler")

LIST_TITLES = {
    "new": gettext_lazy("New grievances"),
    "unassigned": gettext_lazy("Unassigned"),
    "overdue": gettext_lazy("Overdue"),
    "due_soon": gettext_lazy("Due soon"),
}
LIST_HELP = {
    "new": gettext_lazy("Filed and not yet accepted by the office."),
    "unassigned": gettext_lazy("Accepted (or reopened) and not sent to anyone."),
    "overdue": gettext_lazy("A running service clock is past its due time."),
    "due_soon": gettext_lazy("A running service clock is due within two hours."),
}


# --- forms --------------------------------------------------------------------------------


class _NamedChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        if isinstance(obj, Estate) and self.show_community:
            return f"{obj.community.name} · {obj.name}"
        if isinstance(obj, Organization):
            return f"{obj.name} ({obj.get_kind_display()})"
        return str(obj)

    show_community = False


class BoardFilterForm(forms.Form):
    """The board's filters; every choice is limited to what the user oversees."""

    community = _NamedChoice(
        queryset=Community.objects.none(),
        required=False,
        label=gettext_lazy("Community"),
        empty_label=gettext_lazy("All my communities"),
    )
    estate = _NamedChoice(
        queryset=Estate.objects.none(),
        required=False,
        label=gettext_lazy("Estate"),
        empty_label=gettext_lazy("All estates"),
    )
    category = _NamedChoice(
        queryset=Category.objects.none(),
        required=False,
        label=gettext_lazy("Category"),
        empty_label=gettext_lazy("All categories"),
    )
    handler = _NamedChoice(
        queryset=Organization.objects.none(),
        required=False,
        label=gettext_lazy("Handling organization"),
        empty_label=gettext_lazy("All handlers"),
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        communities = list(board_communities(user=user))
        self.fields["community"].queryset = board_communities(user=user)  # type: ignore[attr-defined]
        self.fields["estate"].queryset = board_estates(user=user)  # type: ignore[attr-defined]
        self.fields["category"].queryset = board_categories()  # type: ignore[attr-defined]
        self.fields["handler"].queryset = board_receivers(user=user)  # type: ignore[attr-defined]
        self.many_communities = len(communities) > 1
        self.fields["estate"].show_community = self.many_communities  # type: ignore[attr-defined]
        if not self.many_communities:
            del self.fields["community"]

    def selector_filters(self) -> dict[str, Any]:
        """The board selector's keyword filters (invalid ones dropped)."""
        data = self.cleaned_data if self.is_bound else {}
        return {
            "community": data.get("community"),
            "estate": data.get("estate"),
            "category": data.get("category"),
            "handler_organization": data.get("handler"),
        }


def board_filters(request: HttpRequest) -> tuple[BoardFilterForm, dict[str, Any]]:
    """The filter form bound to the query string, and the selector filters it gives."""
    present = any(request.GET.get(name) for name in FILTER_FIELDS)
    form = BoardFilterForm(request.GET if present else None, user=request.user)
    if form.is_bound:
        form.is_valid()  # invalid choices show an error and filter nothing
    return form, form.selector_filters()


def filter_query(source: Any) -> str:
    """The filters of a query string or form data, as a query string of their own."""
    return urlencode({name: source.get(name) for name in FILTER_FIELDS if source.get(name)})


class _AnyIds(forms.TypedMultipleChoiceField):
    """Positive integers of any value: which of them are in scope is the selector's say."""

    def valid_value(self, value: Any) -> bool:
        text = str(value)
        return text.isdigit() and 0 < int(text) < 2**63


class BulkForm(forms.Form):
    action = forms.ChoiceField(
        choices=[
            ("accept", gettext_lazy("Accept")),
            ("dispatch", gettext_lazy("Dispatch")),
        ]
    )
    ids = _AnyIds(
        coerce=int,
        label=gettext_lazy("Grievances"),
        error_messages={"required": gettext_lazy("Tick at least one grievance.")},
    )
    organization = _NamedChoice(
        queryset=Organization.objects.none(),
        required=False,
        label=gettext_lazy("Send to"),
        empty_label=gettext_lazy("Each to its default handler"),
    )
    note = forms.CharField(
        label=gettext_lazy("Instructions"), max_length=500, required=False, strip=True
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organization"].queryset = board_receivers(user=user)  # type: ignore[attr-defined]

    def clean_ids(self) -> list[int]:
        ids: list[int] = self.cleaned_data["ids"]
        if len(ids) > BULK_MAX:
            raise forms.ValidationError(
                _("Pick at most %(n)s grievances at a time.") % {"n": BULK_MAX}
            )
        return ids


# --- rows ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class BoardRow:
    """One grievance as a board list shows it, with its next clock read now."""

    grievance: Grievance
    badge: str
    clock: str
    time_left: str
    tone: str  # danger | warning | success | "" (no running clock)


def board_row(grievance: Grievance, now: dt.datetime) -> BoardRow:
    """How a grievance reads on the board now: its earliest running clock's time left."""
    due: dt.datetime | None = getattr(grievance, "next_due", None)
    kind: str = getattr(grievance, "next_kind", None) or ""
    badge = STATUS_BADGE.get(Grievance.Status(grievance.status), "text-bg-secondary")
    if due is None:
        return BoardRow(grievance, badge, "", "", "")
    # The same arithmetic as sla.clocks.clock_time_left for a running clock.
    left = due - now
    tone = "danger" if left < dt.timedelta(0) else ("warning" if left <= DUE_SOON else "success")
    label = str(SlaClockSpec.Kind(kind).label) if kind in SlaClockSpec.Kind.values else ""
    return BoardRow(grievance, badge, label, time_left_text(left), tone)


@dataclass(frozen=True)
class BoardList:
    """One paged list of the board."""

    name: str
    title: str
    help: str
    page: Page[Grievance]
    rows: list[BoardRow]
    page_param: str
    query: str  # the filters and the other lists' pages, for this list's page links

    def page_url(self, number: int) -> str:
        joiner = "&" if self.query else ""
        return f"?{self.query}{joiner}{self.page_param}={number}"

    @property
    def previous_url(self) -> str:
        return self.page_url(self.page.previous_page_number()) if self.page.has_previous() else ""

    @property
    def next_url(self) -> str:
        return self.page_url(self.page.next_page_number()) if self.page.has_next() else ""


def _page(qs: QuerySet[Grievance], raw: str | None) -> Page[Grievance]:
    return Paginator(qs, PAGE_SIZE).get_page(raw)


def _lists(request: HttpRequest, filters: dict[str, Any], now: dt.datetime) -> list[BoardList]:
    lists = []
    for name in BOARD_LISTS:
        param = f"{name}_page"
        page = _page(
            board_list(user=request.user, which=name, now=now, **filters),
            request.GET.get(param),
        )
        others = request.GET.copy()
        others.pop(param, None)
        lists.append(
            BoardList(
                name=name,
                title=str(LIST_TITLES[name]),
                help=str(LIST_HELP[name]),
                page=page,
                rows=[board_row(g, now) for g in page.object_list],
                page_param=param,
                query=others.urlencode(),
            )
        )
    return lists


def _choices(field: Any) -> list[tuple[Any, str]]:
    # A comprehension, not list(): list() asks the choice iterator its length first,
    # which is one more COUNT(*) query per select.
    return [(value, label) for value, label in field.choices]


def require_board(request: HttpRequest) -> None:
    if not board_may_view(user=request.user):
        raise Http404


# --- views ---------------------------------------------------------------------------------


@login_required
@require_GET
def dispatch_board(request: HttpRequest) -> HttpResponse:
    """The dispatch board: four paged lists with live time left, filters, bulk actions."""
    require_board(request)
    now = timezone.now()
    form, filters = board_filters(request)
    lists = _lists(request, filters, now)
    context: dict[str, Any] = {
        "form": form,
        # The choices listed once here: the template's {% for %} would COUNT(*) each first.
        "filter_fields": [(field, _choices(field.field)) for field in form],
        "lists": lists,
        "now": now,
        "may_act": board_may_act(user=request.user),
        "filters": filter_query(request.GET),
        "filter_pairs": [(n, request.GET[n]) for n in FILTER_FIELDS if request.GET.get(n)],
        "refresh_query": request.GET.urlencode(),
    }
    if request.headers.get("HX-Request") == "true":
        # The minute refresh: the lists only (the filters and bulk form stay as they are).
        return render(request, "grievances/staff/_board_lists.html", context)
    if context["may_act"]:
        bulk_form = BulkForm(user=request.user)
        context["bulk_form"] = bulk_form
        # The same organizations as the handler filter's: listed once.
        handlers = next(
            choices for field, choices in context["filter_fields"] if field.name == "handler"
        )
        context["receivers"] = [("", bulk_form.fields["organization"].empty_label), *handlers[1:]]  # type: ignore[attr-defined]
    return render(request, "grievances/staff/board.html", context)


def _back_to_board(data: Any) -> HttpResponse:
    query = filter_query(data)
    return redirect(reverse("grievances:board") + (f"?{query}" if query else ""))


@login_required
@require_POST
def board_bulk(request: HttpRequest) -> HttpResponse:
    """Accept or dispatch the ticked grievances: one transaction each, failures listed."""
    require_board(request)
    if not board_may_act(user=request.user):
        # A street supervisor sees the board but acts through the community office.
        return HttpResponse(
            _("Only the community office accepts and dispatches grievances."), status=403
        )
    form = BulkForm(request.POST, user=request.user)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
        return _back_to_board(request.POST)
    ids: list[int] = form.cleaned_data["ids"]
    now = timezone.now()
    # Ids outside the user's board (another community, a stale page) fail as "not found",
    # exactly as a grievance that does not exist: the board does not tell them apart.
    visible = set(
        board_list(user=request.user, which="all", now=now)
        .filter(pk__in=ids)
        .values_list("pk", flat=True)
    )
    if form.cleaned_data["action"] == "accept":
        result = grievances_bulk_accept(
            grievances=[pk for pk in ids if pk in visible], actor=request.user, now=now
        )
        done = ngettext(
            "%(n)d grievance accepted.", "%(n)d grievances accepted.", len(result.done)
        ) % {"n": len(result.done)}
    else:
        result = grievances_bulk_dispatch(
            grievances=[pk for pk in ids if pk in visible],
            actor=request.user,
            now=now,
            organization=form.cleaned_data["organization"],
            note=form.cleaned_data["note"],
        )
        done = ngettext(
            "%(n)d grievance dispatched.", "%(n)d grievances dispatched.", len(result.done)
        ) % {"n": len(result.done)}
    if result.done:
        messages.success(request, done)
    failures = {pk: _("Not found.") for pk in ids if pk not in visible} | result.failed
    for pk, reason in sorted(failures.items()):
        messages.error(request, _("#%(pk)s: %(reason)s") % {"pk": pk, "reason": reason})
    return _back_to_board(request.POST)
