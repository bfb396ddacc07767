"""Request-scoped facts the domain records but does not decide: which request is
running. Set by the HTTP layer; None in the CLI."""

from __future__ import annotations

from contextvars import ContextVar

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
