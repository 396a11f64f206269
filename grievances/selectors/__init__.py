"""Every read of the grievances app that pages, APIs, Open311 and other apps use."""

from grievances.selectors.access import (
    can_see_internal,
    grievance_scope,
    grievances_visible,
    is_office,
    is_receiver,
)
from grievances.selectors.grievances import (
    attachment_for,
    grievance_default_receiver,
    grievance_detail,
    grievance_list,
    grievance_may_see,
    grievance_photos,
    grievance_possible_duplicates,
    grievance_queue_for_receiver,
    grievance_timeline,
)
from grievances.selectors.open311 import open311_client_for_key, open311_key_hash

__all__ = [
    "attachment_for",
    "can_see_internal",
    "grievance_default_receiver",
    "grievance_detail",
    "grievance_list",
    "grievance_may_see",
    "grievance_photos",
    "grievance_possible_duplicates",
    "grievance_queue_for_receiver",
    "grievance_scope",
    "grievance_timeline",
    "grievances_visible",
    "is_office",
    "is_receiver",
    "open311_client_for_key",
    "open311_key_hash",
]
