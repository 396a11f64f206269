"""XML and JSON the way GeoReport v2 writes them, and its error documents.

Both formats come from one plain structure (dicts, lists, strings, numbers, booleans,
None), mapped as the spec's "Spark convention" does: a JSON list is an XML element whose
children are named in the singular (services → service, service_requests → request).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any
from xml.etree import ElementTree as ET

from django.http import HttpResponse
from django.utils import timezone

XML = "xml"
JSON = "json"
FORMATS = (XML, JSON)
CONTENT_TYPES = {
    XML: "text/xml; charset=utf-8",
    JSON: "application/json; charset=utf-8",
}
MIME_TYPES = ("text/xml", "application/json")

#: The child element of each list, by the list's own name.
ITEM_NAMES = {
    "services": "service",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
    "service_requests": "request",
    "errors": "error",
}

# Characters XML 1.0 cannot carry at all (control characters other than tab and line
# breaks, lone surrogates): a resident's pasted text must not make the document unparsable.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_DECLARATION = '<?xml version="1.0" encoding="utf-8"?>\n'


def w3_datetime(value: dt.datetime | None) -> str | None:
    """An aware datetime in the spec's w3 format with the site's offset: 2026-11-23T14:05:00+08:00."""
    if value is None:
        return None
    return timezone.localtime(value).isoformat(timespec="seconds")


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return _NOT_XML.sub("", str(value))


def _append(parent: ET.Element, name: str, value: Any) -> None:
    element = ET.SubElement(parent, name)
    if isinstance(value, Mapping):
        for key, item in value.items():
            _append(element, key, item)
    elif isinstance(value, Sequence) and not isinstance(value, str):
        child = ITEM_NAMES[name]
        for item in value:
            _append(element, child, item)
    else:
        element.text = _text(value)


def to_xml(root: str, data: Any) -> bytes:
    """The document `<root>…</root>` for `data`, with the XML declaration, in UTF-8."""
    element = ET.Element(root)
    if isinstance(data, Mapping):
        for key, item in data.items():
            _append(element, key, item)
    else:
        child = ITEM_NAMES[root]
        for item in data:
            _append(element, child, item)
    return (_DECLARATION + ET.tostring(element, encoding="unicode")).encode("utf-8")


def to_json(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def render(fmt: str, root: str, data: Any, *, status: int = 200) -> HttpResponse:
    """The response in the asked format; `root` names the XML root element."""
    body = to_xml(root, data) if fmt == XML else to_json(data)
    return HttpResponse(body, status=status, content_type=CONTENT_TYPES[fmt])


def render_errors(
    fmt: str, status: int, descriptions: Sequence[str], *, code: int | None = None
) -> HttpResponse:
    """The spec's error document: one <error> per problem, each with the HTTP status as code."""
    errors = [{"code": code or status, "description": str(text)} for text in descriptions]
    return render(fmt if fmt in FORMATS else XML, "errors", errors, status=status)
