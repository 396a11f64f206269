"""The status map of a grievance (工单状态流转): every move a service may make, and no other.

submitted → accepted → dispatched → on_site → resolved → closed is the main road; the
others are its side roads:

- rejected (with a reason) and merged (into the grievance it duplicates) end a
  grievance the office will not work on; both cancel its clocks;
- dispatched → accepted: the receiver declined, or the office withdrew the dispatch;
  the grievance is back on the office's desk;
- waiting pauses the clocks (no access to the home, parts on order) and returns to the
  status it paused from (`Grievance.waiting_from`), never anywhere else;
- accepted → resolved: the office answers a matter it handles itself (a suggestion, a
  question) without sending anyone; needs a note, no "after" photo (nobody went);
- resolved → reopened when the reporter says "not solved"; reopened goes to dispatched
  again (to the same handler) or back to the office (accepted).

closed, rejected and merged are final: a new problem is a new grievance.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from grievances.models import Grievance

Status = Grievance.Status

TRANSITIONS: dict[str, frozenset[str]] = {
    Status.SUBMITTED: frozenset({Status.ACCEPTED, Status.REJECTED, Status.MERGED}),
    Status.ACCEPTED: frozenset(
        {Status.DISPATCHED, Status.REJECTED, Status.MERGED, Status.RESOLVED}
    ),
    Status.DISPATCHED: frozenset(
        {Status.ON_SITE, Status.ACCEPTED, Status.WAITING, Status.RESOLVED, Status.MERGED}
    ),
    Status.ON_SITE: frozenset({Status.WAITING, Status.RESOLVED}),
    # Where a waiting grievance goes is narrowed further by `waiting_from` (see `allowed`).
    Status.WAITING: frozenset({Status.DISPATCHED, Status.ON_SITE}),
    Status.RESOLVED: frozenset({Status.CLOSED, Status.REOPENED}),
    Status.REOPENED: frozenset({Status.DISPATCHED, Status.ACCEPTED}),
    Status.CLOSED: frozenset(),
    Status.REJECTED: frozenset(),
    Status.MERGED: frozenset(),
}

#: Statuses of a grievance someone still has to work on (or the reporter to confirm).
OPEN_STATUSES = frozenset(
    {
        Status.SUBMITTED,
        Status.ACCEPTED,
        Status.DISPATCHED,
        Status.ON_SITE,
        Status.WAITING,
        Status.RESOLVED,
        Status.REOPENED,
    }
)
FINAL_STATUSES = frozenset({Status.CLOSED, Status.REJECTED, Status.MERGED})
#: The handler's part: between the receiver's acceptance and the resolution.
IN_HANDS_STATUSES = frozenset({Status.DISPATCHED, Status.ON_SITE, Status.WAITING})


class TransitionNotAllowed(ValidationError):
    """A move outside the status map: refused, and nothing was changed."""

    def __init__(self, grievance: Grievance, to: str) -> None:
        super().__init__(
            _("This grievance is “%(status)s” and cannot become “%(to)s”.")
            % {"status": Status(grievance.status).label, "to": Status(to).label},
            code="transition",
        )
        self.current = grievance.status
        self.to = to


def allowed(grievance: Grievance, to: str) -> bool:
    """Whether the map lets `grievance` move to `to` from where it is now."""
    if to not in TRANSITIONS.get(grievance.status, frozenset()):
        return False
    if grievance.status == Status.WAITING:
        return to == grievance.waiting_from
    return True


def check(grievance: Grievance, to: str) -> None:
    """Raise TransitionNotAllowed unless the map lets `grievance` move to `to`."""
    if not allowed(grievance, to):
        raise TransitionNotAllowed(grievance, to)
