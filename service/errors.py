"""Domain errors and their HTTP form, RFC 9457 problem details.

Services raise these; the app turns them (and every framework error) into
``application/problem+json`` in one place."""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_BASE = "urn:annotation-store:problem:"

FieldErrors = Mapping[str, list[str]]


class DomainError(Exception):
    """A request the domain refuses. ``slug`` names the problem type."""

    status = 400
    slug = "bad-request"

    def __init__(
        self,
        detail: str,
        *,
        errors: FieldErrors | None = None,
        headers: Mapping[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = dict(errors) if errors else None
        self.headers = dict(headers or {})
        self.extensions = extensions

    def problem(self) -> dict[str, Any]:
        body = problem_body(self.status, detail=self.detail, slug=self.slug)
        if self.errors:
            body["errors"] = self.errors
        body.update(self.extensions)
        return body


class BadRequest(DomainError):
    status = 400
    slug = "bad-request"


class Unauthorized(DomainError):
    status = 401
    slug = "unauthorized"


class Forbidden(DomainError):
    status = 403
    slug = "forbidden"


class NotFound(DomainError):
    status = 404
    slug = "not-found"


class Conflict(DomainError):
    status = 409
    slug = "conflict"


class PreconditionFailed(DomainError):
    status = 412
    slug = "precondition-failed"


# A 412 without an If-Match: the row changed between its read and its write.
CHANGED_MEANWHILE = "the resource was changed by another request meanwhile; read it again"


class PreconditionRequired(DomainError):
    status = 428
    slug = "precondition-required"


class RuleViolation(DomainError):
    """A well-formed request that breaks a rule of the store (422)."""

    status = 422
    slug = "rule-violation"


class InvalidSpan(RuleViolation):
    slug = "invalid-span"


class InvalidLabel(RuleViolation):
    slug = "invalid-label"


class InvalidLink(RuleViolation):
    slug = "invalid-link"


class InvalidSchema(RuleViolation):
    slug = "invalid-schema"


class ReadOnlyField(RuleViolation):
    slug = "read-only-field"


class IdempotencyKeyReused(RuleViolation):
    slug = "idempotency-key-reused"


class ServiceUnavailable(DomainError):
    status = 503
    slug = "service-unavailable"


def problem_body(
    status: int, *, detail: str | None = None, slug: str | None = None
) -> dict[str, Any]:
    """The members every problem carries; ``type`` is about:blank for plain HTTP errors."""
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + slug if slug else "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
    }
    if detail:
        body["detail"] = detail
    return body


# Unique constraints a concurrent writer can still trip after the service's own checks,
# by their PostgreSQL name and by the columns SQLite reports.
_UNIQUE_CONSTRAINTS = (
    (
        ("uq_documents_external_id", "documents.external_id"),
        "another document already has this external_id",
    ),
    (
        ("uq_links_type_source_id_target_id", "links.type, links.source_id, links.target_id"),
        "a link of this type between these annotations already exists",
    ),
)


def conflict_from_integrity_error(error: Exception) -> Conflict | None:
    """The documented 409 for a unique-constraint violation, or None if it is not one."""
    message = str(getattr(error, "orig", error))
    for markers, detail in _UNIQUE_CONSTRAINTS:
        if any(marker in message for marker in markers):
            return Conflict(detail)
    lowered = message.lower()
    if "unique constraint" in lowered or "duplicate key" in lowered:
        return Conflict("the request conflicts with an existing resource")
    return None


def flatten_messages(messages: Mapping[str, Any]) -> dict[str, list[str]]:
    """Marshmallow's nested messages as ``{"dotted.path": [messages]}``, without the
    request location (json, query) that webargs puts first."""
    flat: dict[str, list[str]] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, Mapping):
            for key, inner in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), inner)
        elif isinstance(value, list) and all(isinstance(item, str) for item in value):
            flat.setdefault(prefix or "_body", []).extend(value)
        else:
            flat.setdefault(prefix or "_body", []).append(str(value))

    for location_messages in messages.values():
        walk("", location_messages)
    return flat
