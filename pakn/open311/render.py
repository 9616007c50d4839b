"""The standard's two formats, built from the same plain data.

JSON is the data as is. XML is built with :mod:`xml.etree.ElementTree` (never by joining
strings, so user text is always escaped): a dict becomes child elements in key order, a list
becomes one element per item named by :data:`ITEM_TAGS`, ``None`` an empty element and
booleans ``true``/``false``, as in the specification's examples.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any
from xml.etree import ElementTree as ET

from flask import Response, json

from workflows.calendar import TZ

FORMATS = ("json", "xml")
MIMETYPES = {"json": "application/json", "xml": "text/xml"}
#: The element of each item of a list, by the list's element name.
ITEM_TAGS = {"services": "service", "service_requests": "request", "errors": "error",
             "attributes": "attribute", "values": "value", "endpoints": "endpoint", "formats": "format"}


def w3c(moment: datetime | None) -> str | None:
    """An instant as the standard writes it (W3C/ISO 8601 with the offset), in local time."""
    return moment.astimezone(TZ).isoformat(timespec="seconds") if moment else None


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _fill(element: ET.Element, value: Any) -> None:
    if isinstance(value, dict):
        for key, child in value.items():
            _fill(ET.SubElement(element, key), child)
    elif isinstance(value, list):
        tag = ITEM_TAGS.get(element.tag, "item")
        for item in value:
            _fill(ET.SubElement(element, tag), item)
    elif value is not None:
        element.text = _text(value)


def to_xml(root: str, data: Any) -> bytes:
    element = ET.Element(root)
    _fill(element, data)
    return ET.tostring(element, encoding="utf-8", xml_declaration=True)


def respond(fmt: str, root: str, data: Any, status: int = 200) -> Response:
    """``data`` in ``fmt``; ``root`` names the XML root element (``services``, …)."""
    if fmt == "xml":
        body = to_xml(root, data)
    else:
        body = json.dumps(data, ensure_ascii=False).encode()
    return Response(body, status=status, content_type=f"{MIMETYPES.get(fmt, MIMETYPES['json'])}; charset=utf-8")


def error_response(fmt: str, status: int, descriptions: list[str]) -> Response:
    """The standard's error format: ``[{"code", "description"}]`` / ``<errors><error>…``."""
    return respond(fmt, "errors", [{"code": status, "description": d} for d in descriptions], status)
