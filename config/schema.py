"""OpenAPI schema generation (drf-spectacular) fitted to the house API style."""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema


class AutoSchema(SpectacularAutoSchema):
    """Name nested serializers after their view: `ResidentListApi.OutputSerializer` -> ResidentListOutput.

    STYLE.md puts an `InputSerializer` / `OutputSerializer` inside every API view, and
    drf-spectacular names a component after the class alone, so every view's "Output"
    would collide (drf_spectacular.W001) and the schema would describe one of them only.
    """

    def get_serializer_name(self, serializer: Any, direction: Any) -> str:
        outer, _, inner = type(serializer).__qualname__.rpartition(".")
        if outer and "<locals>" not in outer:
            view = outer.rsplit(".", 1)[-1].removesuffix("Api").removesuffix("View")
            return view + inner
        return str(super().get_serializer_name(serializer, direction))
