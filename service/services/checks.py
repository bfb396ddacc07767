"""Checks shared by the services."""

from __future__ import annotations

import math
import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.errors import CHANGED_MEANWHILE, PreconditionFailed, RuleViolation

# U+0000, which PostgreSQL refuses in text and JSON, and unpaired surrogates, which a
# JSON "\ud800" escape can produce but no UTF-8 database or JSON encoder takes.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def lock_unchanged(session: Session, row: Any) -> None:
    """Take ``row``'s lock (FOR UPDATE on PostgreSQL; SQLite has one writer at a time)
    before its dependents are listed for the history: a link or annotation being added
    to it meanwhile is then committed first and listed, or waits and is refused. A row
    changed since it was read is 412, as the compare-and-set would make it."""
    model = type(row)
    locked = session.execute(
        select(model.version).where(model.id == row.id).with_for_update()
    ).scalar()
    if locked != row.version:
        raise PreconditionFailed(CHANGED_MEANWHILE)


def refuse_unstorable(value: Any, field: str) -> None:
    """Refuse a value holding what no database can store, wherever it hides in a JSON
    value, on every database alike."""
    what = unstorable(value)
    if what is not None:
        raise RuleViolation(
            f"{field} holds {what}, which cannot be stored",
            errors={field: [f"must not contain {what}"]},
        )


# Arrays and objects within each other, at most: the JSON encoder of the JSON columns
# (orjson) stops at 255.
MAX_NESTING = 200


def unstorable(value: Any, depth: int = 0) -> str | None:
    """What in ``value`` cannot be stored ("U+0000", "an unpaired surrogate U+D800",
    "an integer beyond 64 bits", "a number that is not finite", "arrays and objects
    nested deeper than 200"), if anything."""
    if depth > MAX_NESTING:
        return f"arrays and objects nested deeper than {MAX_NESTING}"
    if isinstance(value, str):
        match = _UNSTORABLE.search(value)
        if match is None:
            return None
        found = match.group()
        return "U+0000" if found == "\x00" else f"an unpaired surrogate U+{ord(found):04X}"
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        # What JSON columns and encoders hold exactly.
        return None if -(2**63) <= value < 2**63 else "an integer beyond 64 bits"
    if isinstance(value, float):
        # JSON has no NaN or Infinity, though Python's parser takes them.
        return None if math.isfinite(value) else "a number that is not finite"
    if isinstance(value, dict):
        for key, item in value.items():
            found_in = unstorable(key) or unstorable(item, depth + 1)
            if found_in is not None:
                return found_in
    elif isinstance(value, list):
        for item in value:
            found_in = unstorable(item, depth + 1)
            if found_in is not None:
                return found_in
    return None
