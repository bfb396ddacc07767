"""What every view shares: JSON responses, ETags and preconditions, pages and their
Link header, and the documentation of headers and error responses."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from http import HTTPStatus
from typing import Any, TypeVar
from urllib.parse import urlencode

import flask
from flask_smorest import Blueprint

from service.config import Settings
from service.errors import BadRequest, PreconditionFailed
from service.formats import native
from service.services.pagination import Page

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")

JSON_MEDIA_TYPE = "application/json"


def settings() -> Settings:
    return flask.current_app.extensions["settings"]


def actor() -> str:
    """The name of whoever makes this request."""
    return flask.g.get("identity", "anonymous")


def json_response(
    body: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> flask.Response:
    payload = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    return flask.Response(payload, status=status, headers=headers, mimetype=JSON_MEDIA_TYPE)


def etag(version: int) -> str:
    return f'"{version}"'


def check_if_match(version: int) -> None:
    """Refuse a write whose If-Match names another version than the stored one."""
    if_match = flask.request.if_match
    if not if_match:
        return
    if if_match.star_tag or if_match.contains(etag(version).strip('"')):
        return
    raise PreconditionFailed(
        f"If-Match does not match the current version {version}; read the resource again",
        current_version=version,
        current_etag=etag(version),
    )


def resource(
    body: dict[str, Any], *, status: int = 200, location: str | None = None
) -> flask.Response:
    """One resource with its ETag; a GET whose If-None-Match matches gets a 304."""
    tag = etag(body["version"])
    headers = {"ETag": tag}
    if location is not None:
        headers["Location"] = location
    if flask.request.method in ("GET", "HEAD") and flask.request.if_none_match.contains(
        tag.strip('"')
    ):
        return flask.Response(status=304, headers=headers)
    return json_response(body, status, headers)


def no_content() -> flask.Response:
    return flask.Response(status=204)


def page_limit(args: Mapping[str, Any]) -> int:
    limit: int = args.get("limit", settings().page_size_default)
    if limit > settings().page_size_max:
        raise BadRequest(
            f"limit {limit} is above the maximum page size {settings().page_size_max}",
            errors={"limit": [f"must be <= {settings().page_size_max}"]},
        )
    return limit


def page(result: Page[T], present: Callable[[T], Any]) -> flask.Response:
    """A page of a list, with an RFC 8288 ``Link: <...>; rel="next"`` header."""
    headers = {}
    if result.next_cursor is not None:
        query = {**flask.request.args.to_dict(), "cursor": result.next_cursor}
        next_url = f"{flask.request.base_url}?{urlencode(query)}"
        headers["Link"] = f'<{next_url}>; rel="next"'
    return json_response(native.page(result.items, result.next_cursor, present), headers=headers)


# --- OpenAPI documentation -------------------------------------------------------------

PROBLEM_STATUSES = (400, 401, 403, 404, 405, 409, 412, 413, 415, 422, 428, 500, 503)


def problem_response_name(status: int) -> str:
    return HTTPStatus(status).phrase.title().replace(" ", "").replace("-", "")


IF_MATCH = "IfMatch"
IF_NONE_MATCH = "IfNoneMatch"
ETAG_HEADER = {"ETag": "ETag"}
CREATED_HEADERS = {"ETag": "ETag", "Location": "Location"}
PAGE_HEADERS = {"Link": "Link"}

BODY_STATUSES = (400, 413, 415, 422)


class StoreBlueprint(Blueprint):
    """A blueprint with this service's conventions for arguments and documentation.

    ``read_role`` and ``write_role`` are the least roles that may read and write
    through it (see service.auth); its operations under /v1 need a key, and document
    401 and 403."""

    def __init__(
        self, *args: Any, read_role: str = "reader", write_role: str = "admin", **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.read_role = read_role
        self.write_role = write_role
        self.protected = (self.url_prefix or "").startswith("/v1")

    def problems(self, *statuses: int) -> Callable[[F], F]:
        """Document the problem+json error responses an operation can give."""
        if self.protected:
            statuses = (*statuses, 401, 403)

        def decorate(view: F) -> F:
            for status in sorted(set(statuses), reverse=True):
                view = self.alt_response(status, response=problem_response_name(status))(view)
            return view

        return decorate

    def query(self, schema: Any) -> Callable[[F], F]:
        """Query-string arguments: malformed ones are a 400, not a 422."""
        return self.arguments(schema, location="query", error_status_code=400)

    def body(self, schema: Any, **options: Any) -> Callable[[F], F]:
        """A JSON request body: malformed JSON is a 400, a body that breaks the schema 422."""
        return self.arguments(schema, location="json", **options)
