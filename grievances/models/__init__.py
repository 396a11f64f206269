"""Grievances (诉求): intake, dispatch (派单), the SLA clocks of the 1715 rule (DESIGN §5).

A grievance moves through an explicit status map (grievances.workflow); each move is a
compare-and-set on the status column plus a timeline event. Which SLA clocks start,
stop and pause on which move is data: the clock specs of the category's SLA policy,
copied onto the clock row when it starts, so editing a policy never changes a running
promise. The clock rows are the source of truth: the sweep turns due/warn/escalate
columns into events (one per clock, kind and level), and pages compute "time left"
and "overdue" from the same columns, so they are right even when no worker runs.
"""

from grievances.models.clocks import DeadlineExtension, SlaClock, SlaEvent
from grievances.models.grievance import (
    Attachment,
    Category,
    CostShare,
    CostShareLine,
    Dispatch,
    Grievance,
    Open311Client,
    Rating,
    TimelineEvent,
)
from grievances.models.policies import CalendarDay, SlaClockSpec, SlaPolicy, Tier, Trigger

__all__ = [
    "Attachment",
    "CalendarDay",
    "Category",
    "CostShare",
    "CostShareLine",
    "DeadlineExtension",
    "Dispatch",
    "Grievance",
    "Open311Client",
    "Rating",
    "SlaClock",
    "SlaClockSpec",
    "SlaEvent",
    "SlaPolicy",
    "Tier",
    "TimelineEvent",
    "Trigger",
]
