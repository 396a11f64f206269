"""Photos of grievances, served from private storage only to those the selector allows.

`attachment_for` decides (the grievance in scope, not a photo of an internal note for a
resident); anything else is 404, the same answer as a photo that does not exist, so a
guessed number tells nothing. The response is private to the browser (no shared cache
keeps it) and is never sniffed into something else than the image type we stored.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_safe

from grievances.attachments import attachment_open
from grievances.models import Attachment
from grievances.selectors.grievances import attachment_for


@login_required
@require_safe
def grievance_photo(request: HttpRequest, pk: int) -> FileResponse:
    try:
        attachment = attachment_for(user=request.user, pk=pk)
    except Attachment.DoesNotExist:
        raise Http404 from None
    try:
        handle = attachment_open(attachment)
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(handle, content_type=attachment.content_type)
    response["Content-Disposition"] = "inline"
    response["X-Content-Type-Options"] = "nosniff"
    patch_cache_control(response, private=True, max_age=3600)
    return response
