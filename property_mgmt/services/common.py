"""What the property_mgmt services share."""

from __future__ import annotations

# A field's refusal that keeps its code: the same helper as the grievances services'.
from grievances.services.common import field_error

__all__ = ["field_error"]
