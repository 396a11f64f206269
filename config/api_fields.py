"""What every app's API shares: the refusal shape and serializer fields.

Errors: a service's refusal is 400 with `detail` (its messages, in the request's
language), `code` and, when it names fields, `errors` per field; "in scope but not yours
to do" is 403 with the code "permission_denied". (The grievances API answers 409 for a
status conflict too, so it keeps its own.)
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import build_choice_field
from drf_spectacular.utils import inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response


def refusal(exc: ValidationError | PermissionDenied) -> Response:
    """The answer to a refused service call: 403, or 400 with the messages."""
    if isinstance(exc, PermissionDenied):
        return Response(
            {
                "detail": str(exc) or str(exceptions.PermissionDenied.default_detail),
                "code": "permission_denied",
            },
            status=status.HTTP_403_FORBIDDEN,
        )
    body: dict[str, Any] = {
        "detail": " ".join(str(m) for m in exc.messages),
        "code": getattr(exc, "code", None) or "invalid",
    }
    if hasattr(exc, "error_dict"):
        body["errors"] = {field: [str(m) for m in msgs] for field, msgs in exc.message_dict.items()}
        # A refusal naming its field carries its code on the field's error.
        codes = {e.code for errors in exc.error_dict.values() for e in errors if e.code}
        if body["code"] == "invalid" and len(codes) == 1:
            body["code"] = codes.pop()
    return Response(body, status=status.HTTP_400_BAD_REQUEST)


def refusal_serializer(name: str, *, codes: str) -> Any:
    """The body of a refusal, for the schema, as the component `name`; `codes` lists the
    codes the API answers (a serializer field may not be named "errors")."""
    return inline_serializer(
        name=name,
        fields={
            "detail": serializers.CharField(),
            "code": serializers.CharField(help_text=codes),
            "errors": serializers.DictField(
                child=serializers.ListField(child=serializers.CharField()),
                required=False,
                help_text="messages per field, when the refusal names fields",
            ),
        },
    )


class NamedChoiceField(serializers.ChoiceField):
    """A choice field bound to one model choice set, shown in the schema as a component of
    its own name, e.g.

        class SignUpStatusField(NamedChoiceField):
            choice_set = SignUp.Status
            enum_name = "SignUpStatusEnum"

    Several apps have fields named "status", "kind" and "method" with other choices;
    drf-spectacular would name the shared enums after a hash and warn (the schema is built
    with --fail-on-warn), unless settings list an override.
    """

    choice_set: ClassVar[type[models.Choices]]
    enum_name: ClassVar[str]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=self.enum_choices(), **kwargs)

    @classmethod
    def enum_choices(cls) -> list[tuple[Any, Any]]:
        """The choices (a subclass may offer a part of its choice set)."""
        return list(cls.choice_set.choices)


class NamedChoiceFieldExtension(OpenApiSerializerFieldExtension):
    """Every NamedChoiceField as the component `enum_name`."""

    target_class = NamedChoiceField
    match_subclasses = True

    def get_name(self) -> str | None:
        return str(self.target.enum_name)

    def map_serializer_field(self, auto_schema: Any, direction: Any) -> dict[str, Any]:
        # A fresh field: one component whatever a use adds (allow_null, allow_blank).
        schema = dict(build_choice_field(type(self.target)()))
        schema.pop("x-spec-enum-id", None)
        return schema


class ChoiceLabelField(serializers.CharField):
    """The label of a choice column in the request's language, e.g.
    `ChoiceLabelField(Activity.Kind, source="kind")`.

    What `source="get_kind_display"` says, for a fraction of its cost on a list: DRF
    inspects a method's signature on every row, and Django's display method hashes every
    choice's lazy label (make bench).
    """

    def __init__(
        self, choices: type[models.Choices] | Iterable[tuple[Any, Any]], **kwargs: Any
    ) -> None:
        pairs = choices.choices if isinstance(choices, type) else choices
        self.labels = dict(pairs)  # the labels stay lazy: translated when written
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)

    def to_representation(self, value: Any) -> str:
        # A value no longer among the choices shows as itself.
        return str(self.labels.get(value, value))
