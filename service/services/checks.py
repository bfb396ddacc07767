"""Checks shared by the services."""

from __future__ import annotations

from typing import Any

from service.errors import RuleViolation

NUL = "\x00"


def refuse_nul(value: Any, field: str) -> None:
    """U+0000 cannot be stored (PostgreSQL refuses it in text and JSON); refuse it on
    every database alike, wherever it hides in a JSON value."""
    if holds_nul(value):
        raise RuleViolation(
            f"{field} holds the character U+0000, which cannot be stored",
            errors={field: ["must not contain U+0000"]},
        )


def holds_nul(value: Any) -> bool:
    if isinstance(value, str):
        return NUL in value
    if isinstance(value, dict):
        return any(holds_nul(k) or holds_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(holds_nul(item) for item in value)
    return False
