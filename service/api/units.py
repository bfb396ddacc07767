"""offset_unit: clients that count UTF-16 code units (JavaScript) or UTF-8 bytes ask
for offsets in their unit; the store converts at the edge and names the unit of every
response that carries offsets in an Offset-Unit header."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import flask

from service.errors import BadRequest, InvalidSpan
from service.formats.units import OffsetError, OffsetMap
from service.schemas import annotations as schemas

HEADER = "Offset-Unit"
CODEPOINT = "codepoint"


OffsetUnitArgsSchema = schemas.OffsetUnitArgsSchema


def unit_of(args: Mapping[str, Any]) -> str:
    return args.get("offset_unit") or CODEPOINT


def to_codepoints(
    text: str, unit: str, values: Mapping[str, Any], names: Iterable[str] = ("start", "end")
) -> dict[str, Any]:
    """``values`` with the named offsets turned into code points (422 inside a character)."""
    converted = dict(values)
    if unit == CODEPOINT:
        return converted
    offsets = OffsetMap(text, unit)
    for name in names:
        value = converted.get(name)
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            try:
                converted[name] = offsets.to_codepoint(value, field=name)
            except OffsetError as error:
                raise InvalidSpan(str(error), errors={name: [str(error)]}) from None
    return converted


def from_codepoints(items: Iterable[dict[str, Any]], text: str, unit: str) -> None:
    """Turn the start and end of each item (in place) into ``unit``. An orphaned
    annotation's offsets belong to an earlier revision of the text, so they cannot be
    turned with this one: asking for them in another unit is a 400."""
    if unit == CODEPOINT:
        return
    items = list(items)
    orphans = [item["id"] for item in items if item.get("anchor") == "orphaned"]
    if orphans:
        raise BadRequest(
            f"orphaned annotations ({', '.join(orphans[:5])}) keep code point offsets of an "
            "earlier revision of the text; ask for them with offset_unit=codepoint",
            errors={"offset_unit": ["must be codepoint for orphaned annotations"]},
        )
    offsets = OffsetMap(text, unit)
    for item in items:
        item["start"] = offsets.from_codepoint(item["start"])
        item["end"] = offsets.from_codepoint(item["end"])


def labelled(response: flask.Response, unit: str) -> flask.Response:
    response.headers[HEADER] = unit
    return response
