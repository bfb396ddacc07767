"""Keyset pagination: a page ends at a key, and the next page starts strictly after
it, so rows written meanwhile are neither skipped nor repeated."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, tuple_
from sqlalchemy.orm import Session

from service.errors import BadRequest

T = TypeVar("T")
KeyPart = Callable[[Any], Any]


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


@dataclass(frozen=True)
class Ordering:
    """The columns a list is ordered by, and how to read and parse a row's key."""

    columns: Sequence[Any]
    attributes: Sequence[str]
    parsers: Sequence[KeyPart]
    # For plain tuples: where each key attribute is in the row.
    positions: Sequence[int] | None = None
    # For anything else: how to read an item's key.
    read_key: Callable[[Any], list[Any]] | None = None

    def key_of(self, item: Any) -> list[Any]:
        if self.read_key is not None:
            return self.read_key(item)
        if self.positions is not None:
            return [_jsonable(item[position]) for position in self.positions]
        return [_jsonable(getattr(item, name)) for name in self.attributes]

    def cursor_for(self, item: Any) -> str:
        """The cursor of the position just after ``item``."""
        return _encode(self.key_of(item))

    def cursor_for_key(self, key: list[Any]) -> str:
        return _encode(key)

    def parse(self, cursor: str) -> tuple[Any, ...]:
        try:
            padded = cursor + "=" * (-len(cursor) % 4)
            values = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
            if not isinstance(values, list) or len(values) != len(self.parsers):
                raise ValueError
            return tuple(parse(value) for parse, value in zip(self.parsers, values, strict=True))
        except (ValueError, TypeError, UnicodeError, binascii.Error):
            raise BadRequest(
                "cursor is not valid; use the next_cursor of a previous page of this list",
                errors={"cursor": ["not a cursor of this list"]},
            ) from None


def _jsonable(value: Any) -> Any:
    return str(value) if isinstance(value, uuid.UUID) else value


def _encode(key: list[Any]) -> str:
    raw = json.dumps(key, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def strict_uuid(value: Any) -> uuid.UUID:
    if not isinstance(value, str):
        raise ValueError("not a UUID")
    return uuid.UUID(value)


def strict_float(value: Any) -> float:
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise ValueError("not a number")
    return float(value)


def strict_int(value: Any) -> int:
    # Within a 64-bit integer, the widest the databases compare with.
    if not isinstance(value, int) or isinstance(value, bool) or abs(value) >= 2**63:
        raise ValueError("not an integer")
    return value


def paginate(
    session: Session,
    statement: Select[Any],
    ordering: Ordering,
    *,
    limit: int,
    cursor: str | None,
    rows: bool = False,
) -> Page[Any]:
    """A page of ``statement`` in ``ordering``: ORM objects, or plain rows when ``rows``
    (cheaper, for lists that are read often)."""
    if cursor:
        after = ordering.parse(cursor)
        statement = statement.where(tuple_(*ordering.columns) > after)
    statement = statement.order_by(*ordering.columns).limit(limit + 1)
    if rows:  # Core execution: no ORM layer for plain rows
        found = list(session.connection().execute(statement).all())
    else:
        found = list(session.scalars(statement))
    return page_of(found, limit, ordering)


def page_of(found: list[T], limit: int, ordering: Ordering) -> Page[T]:
    """A page from up to ``limit + 1`` rows in ``ordering``: one more means more follow."""
    if len(found) > limit:
        return Page(found[:limit], ordering.cursor_for(found[limit - 1]))
    return Page(found, None)
