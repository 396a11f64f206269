"""The page links of a paged list keep the rest of the query (?community=, filters)."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def page_query(context: dict[str, Any], number: int) -> str:
    """The current query string with `page` set to `number` (escaped by the template)."""
    request = context.get("request")
    if request is None:  # rendered outside a request (render_to_string without one)
        return f"page={number}"
    query = request.GET.copy()
    query["page"] = str(number)
    return query.urlencode()
