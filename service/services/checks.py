"""Checks shared by the services."""

from __future__ import annotations

import re
from typing import Any

from service.errors import RuleViolation

# U+0000, which PostgreSQL refuses in text and JSON, and unpaired surrogates, which a
# JSON "\ud800" escape can produce but no UTF-8 database or JSON encoder takes.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def refuse_unstorable(value: Any, field: str) -> None:
    """Refuse a value holding a character no database can store, wherever it hides in
    a JSON value, on every database alike."""
    what = unstorable(value)
    if what is not None:
        raise RuleViolation(
            f"{field} holds {what}, which cannot be stored",
            errors={field: [f"must not contain {what}"]},
        )


def unstorable(value: Any) -> str | None:
    """What in ``value`` cannot be stored ("U+0000", "an unpaired surrogate U+D800"),
    if anything."""
    found = unstorable_character(value)
    if found is None:
        return None
    return "U+0000" if found == "\x00" else f"an unpaired surrogate U+{ord(found):04X}"


def unstorable_character(value: Any) -> str | None:
    """The first character of ``value`` that cannot be stored, if any."""
    if isinstance(value, str):
        match = _UNSTORABLE.search(value)
        return match.group() if match else None
    if isinstance(value, dict):
        for key, item in value.items():
            found = unstorable_character(key) or unstorable_character(item)
            if found is not None:
                return found
    elif isinstance(value, list):
        for item in value:
            found = unstorable_character(item)
            if found is not None:
                return found
    return None
