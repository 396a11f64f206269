"""The inbox pages (消息): a user's own notifications, on a phone or a desktop.

Everyone who logs in has an inbox; nobody sees another's (another's id answers 404).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import Notification
from accounts.notifications import notification_mark_read, notifications_mark_all_read
from accounts.notifications.selectors import inbox_notification_get, inbox_notifications

INBOX_PAGE_SIZE = 20


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    paginator = Paginator(inbox_notifications(user=request.user), INBOX_PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    return render(request, "accounts/inbox.html", {"page": page})


# GET too: the link in an SMS or e-mail opens the notification the same way. Marking a
# message read is all it changes, so a forged GET can do nothing worse.
@login_required
@require_http_methods(["GET", "POST"])
def inbox_open(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        notification = inbox_notification_get(user=request.user, pk=pk)
    except Notification.DoesNotExist:
        raise Http404 from None
    notification_mark_read(notification=notification, now=timezone.now())
    # Only a path on this site: a stored "https://elsewhere" never becomes a redirect.
    return redirect(notification.local_link or reverse("accounts:inbox") + f"#n-{notification.pk}")


@login_required
@require_POST
def inbox_read_all(request: HttpRequest) -> HttpResponse:
    count = notifications_mark_all_read(user=request.user, now=timezone.now())
    if count:
        messages.success(request, _("All messages are marked read."))
    return redirect(reverse("accounts:inbox"))
