"""The receivers' queue (/grievances/work/): property and partner-unit staff and people
work orders name, on a phone. Work waiting for their answer and work in their hands, the
least time left first; pending work orders are accepted from the row itself."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from grievances.models import Dispatch, Grievance
from grievances.selectors.f2_detail import queue_allowed
from grievances.selectors.grievances import grievance_queue_for_receiver
from grievances.views.detail import STATUS_BADGE, time_left_text

PER_PAGE = 20


@dataclass(frozen=True)
class QueueRow:
    """One work order in the queue as the phone shows it."""

    g: Grievance
    badge: str
    pending: bool
    left: str
    overdue: bool


@login_required
def receiver_queue(request: HttpRequest) -> HttpResponse:
    if not queue_allowed(user=request.user):
        raise Http404
    now = timezone.now()
    page = Paginator(grievance_queue_for_receiver(user=request.user), PER_PAGE).get_page(
        request.GET.get("page")
    )
    rows = []
    for g in page:
        due = getattr(g, "next_due", None)
        rows.append(
            QueueRow(
                g=g,
                badge=STATUS_BADGE.get(Grievance.Status(g.status), "text-bg-secondary"),
                pending=getattr(g, "dispatch_status", "") == Dispatch.Status.PENDING,
                left=time_left_text(due - now) if due is not None else "",
                overdue=due is not None and due < now,
            )
        )
    return render(
        request,
        "grievances/receiver/queue.html",
        {"page": page, "rows": rows},
    )
