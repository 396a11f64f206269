"""Serializer fields every app's API shares."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import models
from rest_framework import serializers


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
