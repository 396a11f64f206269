"""Every write of the grievances app. Pages, APIs, Open311, tasks and other apps call
these, never the models. Entry points are `transaction.atomic(durable=True)`."""

from grievances.services.closing import (
    cost_share_create,
    cost_share_line_pay,
    grievance_rate,
    grievances_autoclose,
)
from grievances.services.dispatch import (
    BulkResult,
    dispatch_accept,
    dispatch_decline,
    dispatch_transfer,
    dispatch_withdraw,
    grievance_accept,
    grievance_dispatch,
    grievance_reject,
    grievances_bulk_accept,
    grievances_bulk_dispatch,
)
from grievances.services.handling import (
    deadline_extension_decide,
    deadline_extension_request,
    grievance_check_in,
    grievance_plan_submit,
    grievance_progress_add,
    grievance_resolve,
    grievance_resume,
    grievance_steward_set,
    grievance_wait,
)
from grievances.services.intake import (
    category_attributes_clean,
    grievance_file,
    grievance_merge,
)
from grievances.services.open311_clients import (
    open311_client_create,
    open311_client_key_rotate,
)

__all__ = [
    "BulkResult",
    "category_attributes_clean",
    "cost_share_create",
    "cost_share_line_pay",
    "deadline_extension_decide",
    "deadline_extension_request",
    "dispatch_accept",
    "dispatch_decline",
    "dispatch_transfer",
    "dispatch_withdraw",
    "grievance_accept",
    "grievance_check_in",
    "grievance_dispatch",
    "grievance_file",
    "grievance_merge",
    "grievance_plan_submit",
    "grievance_progress_add",
    "grievance_rate",
    "grievance_reject",
    "grievance_resolve",
    "grievance_resume",
    "grievance_steward_set",
    "grievance_wait",
    "grievances_autoclose",
    "grievances_bulk_accept",
    "grievances_bulk_dispatch",
    "open311_client_create",
    "open311_client_key_rotate",
]
