"""Offset units. The store counts Unicode code points (as Python and the W3C
TextPositionSelector do); JavaScript counts UTF-16 code units and byte-oriented
tools count UTF-8 bytes. An OffsetMap converts one document's offsets both ways and
refuses offsets that fall inside a character."""

from __future__ import annotations

from bisect import bisect_left
from itertools import accumulate

UNITS = ("codepoint", "utf16", "utf8")


class OffsetError(ValueError):
    """An offset that is not at a character boundary in the given unit."""


def _width(unit: str, character: str) -> int:
    code = ord(character)
    if unit == "utf16":
        return 2 if code > 0xFFFF else 1
    if code < 0x80:
        return 1
    if code < 0x800:
        return 2
    return 3 if code < 0x10000 else 4


class OffsetMap:
    """Code points <-> ``unit`` for one text. Building it is one pass over the text;
    texts where the units agree (ASCII, or BMP-only for UTF-16) cost nothing."""

    def __init__(self, text: str, unit: str) -> None:
        if unit not in UNITS:
            raise ValueError(f"unknown offset unit {unit!r}")
        self.unit = unit
        self.length = len(text)
        same = (
            unit == "codepoint"
            or text.isascii()
            or (unit == "utf16" and all(ord(c) <= 0xFFFF for c in text))
        )
        # boundaries[i]: the offset in `unit` of code point i (None: the units agree).
        self.boundaries: list[int] | None = (
            None if same else [0, *accumulate(_width(unit, c) for c in text)]
        )

    def from_codepoint(self, offset: int) -> int:
        return offset if self.boundaries is None else self.boundaries[offset]

    def to_codepoint(self, offset: int, *, field: str = "offset") -> int:
        """The code point at ``offset`` (in this unit); an offset past the end is
        returned past the end (the span rules refuse it), one inside a character is an
        OffsetError."""
        if self.boundaries is None:
            return offset
        if offset > self.boundaries[-1]:
            return self.length + offset - self.boundaries[-1]
        index = bisect_left(self.boundaries, offset)
        if offset < 0 or self.boundaries[index] != offset:
            raise OffsetError(
                f"{field} {offset} falls inside a character in {self.unit} units; "
                "it must be at a character boundary"
            )
        return index
