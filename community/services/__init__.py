"""Every write to the registry (DESIGN §2): callers use `from community import services`."""

from community.services.imports import (
    IMPORT_JOB_TRANSITIONS,
    import_job_cancel,
    import_job_check,
    import_job_confirm,
    import_job_create,
    residents_import_apply,
)
from community.services.registry import (
    check_id_number_free,
    clean_resident_phone,
    household_create,
    id_number_fields,
    membership_grant,
    resident_create,
    resident_move_out,
    resident_save,
    resident_update,
    unit_create,
)

__all__ = [
    "IMPORT_JOB_TRANSITIONS",
    "check_id_number_free",
    "clean_resident_phone",
    "household_create",
    "id_number_fields",
    "import_job_cancel",
    "import_job_check",
    "import_job_confirm",
    "import_job_create",
    "membership_grant",
    "resident_create",
    "resident_move_out",
    "resident_save",
    "resident_update",
    "residents_import_apply",
    "unit_create",
]
