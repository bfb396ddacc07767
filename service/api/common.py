"""What every view shares: JSON responses, ETags and preconditions, pages and their
Link header, and the documentation of headers and error responses."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping
from copy import deepcopy
from datetime import timedelta
from functools import lru_cache
from http import HTTPStatus
from typing import Any, TypeVar, cast
from urllib.parse import urlencode

import flask
import marshmallow as ma
import orjson
import werkzeug.exceptions
from flask_smorest import Blueprint
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session
from webargs.flaskparser import FlaskParser
from webargs.multidictproxy import MultiDictProxy

from service import current
from service.config import Settings
from service.db import get_session
from service.errors import (
    BadRequest,
    IdempotencyKeyReused,
    NotFound,
    PreconditionFailed,
    PreconditionRequired,
    RuleViolation,
)
from service.formats import native
from service.services import history as history_service
from service.services import idempotency
from service.services.pagination import Page

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")

JSON_MEDIA_TYPE = "application/json"
IDEMPOTENCY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
REPLAYED_HEADERS = ("Location", "ETag", "Content-Type", "Offset-Unit")
_IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")


def settings() -> Settings:
    return current.app().extensions["settings"]


def actor() -> str:
    """The name of whoever makes this request."""
    return flask.g.get("identity", "anonymous")


def json_response(
    body: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> flask.Response:
    return flask.Response(
        orjson.dumps(body), status=status, headers=headers, mimetype=JSON_MEDIA_TYPE
    )


def json_body(members: tuple[str, ...] = ("annotations", "links")) -> dict[str, Any]:
    """A JSON object body read without marshmallow, for bulk endpoints whose items the
    services check faster; same errors as the schema-checked bodies."""
    try:
        body = flask.request.get_json(force=False, silent=False)
    except (werkzeug.exceptions.BadRequest, RecursionError):  # RecursionError: nested too deep
        raise BadRequest("the request body is not valid JSON") from None
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise RuleViolation(
            "the request body must be a JSON object", errors={"_schema": ["Invalid input type."]}
        )
    errors = {key: ["Unknown field."] for key in body if key not in members}
    errors.update(
        {key: ["Not a valid list."] for key in members if not isinstance(body.get(key, []), list)}
    )
    if errors:
        raise RuleViolation("the request is not valid; see errors for each field", errors=errors)
    return body


def etag(version: int) -> str:
    return f'"{version}"'


def check_if_match(version: int, *, required: bool = False) -> None:
    """Refuse a write whose If-Match names another version than the stored one (412),
    or that has none when it is ``required`` or REQUIRE_IF_MATCH is set (428)."""
    if_match = flask.request.if_match
    if not if_match:
        if required or settings().require_if_match:
            raise PreconditionRequired(
                f"{flask.request.method} needs an If-Match header here: send the ETag you "
                "read, so that a concurrent change is not overwritten",
                current_version=version,
                current_etag=etag(version),
            )
        return
    if if_match.star_tag or if_match.contains(etag(version).strip('"')):
        return
    raise PreconditionFailed(
        f"If-Match does not match the current version {version}; read the resource again",
        current_version=version,
        current_etag=etag(version),
    )


def resource(
    body: dict[str, Any],
    *,
    status: int = 200,
    location: str | None = None,
    version: int | None = None,
    variant: str | None = None,
) -> flask.Response:
    """One resource with its ETag; a GET whose If-None-Match matches gets a 304.
    Another representation of it (``variant``) has an ETag of its own."""
    tag = etag(body["version"] if version is None else version)
    if variant is not None:
        tag = f'{tag[:-1]}-{variant}"'
    headers = {"ETag": tag}
    if location is not None:
        headers["Location"] = location
    if flask.request.method in ("GET", "HEAD") and flask.request.if_none_match.contains(
        tag.strip('"')
    ):
        return flask.Response(status=304, headers=headers)
    return json_response(body, status, headers)


def commit(session: Session, response: flask.Response) -> flask.Response:
    """Commit the request's writes, and with them, when the POST carried an
    Idempotency-Key, the response a retry will get instead of writing again."""
    pending = flask.g.get("idempotency")
    if pending is not None:
        key, request_hash = pending
        stored = idempotency.StoredResponse(
            request_hash,
            response.status_code,
            response.get_data(as_text=True),
            {name: response.headers[name] for name in REPLAYED_HEADERS if name in response.headers},
        )
        try:
            idempotency.store(
                session, actor(), key, stored, ttl=timedelta(seconds=settings().idempotency_ttl)
            )
        except IntegrityError:
            # A concurrent request with the same key committed first: undo ours, answer
            # with its response.
            session.rollback()
            winner = idempotency.find(session, actor(), key)
            if winner is None:
                raise
            return _replay(winner, request_hash)
    session.commit()
    return response


def replay_after_refusal() -> flask.Response | None:
    """A POST with an Idempotency-Key refused by what a concurrent request with the same
    key wrote (a duplicate link, a restore already made): that request's stored
    response, which its retry is owed, if it has committed; else None."""
    pending = flask.g.get("idempotency")
    if pending is None:
        return None
    key, request_hash = pending
    session = get_session()
    try:
        session.rollback()
        winner = idempotency.find(session, actor(), key)
    except SQLAlchemyError:  # the database gone meanwhile: the refusal is the answer
        return None
    if winner is None or winner.request_hash != request_hash:
        return None  # another request's key: the refusal stands (a 422 of its own)
    return _replay(winner, request_hash)


def check_idempotency() -> flask.Response | None:
    """before_request: a POST whose Idempotency-Key was seen before gets the stored
    response; the same key with another request is a 422."""
    request = current.request()
    if request.method != "POST":  # before the headers: most requests are GETs
        return None
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if key is None or not request.path.startswith("/v1/"):
        return None
    if not _IDEMPOTENCY_KEY.match(key):
        raise BadRequest(
            f"{IDEMPOTENCY_HEADER} must be 1 to 255 visible ASCII characters",
            errors={IDEMPOTENCY_HEADER: ["not a valid key"]},
        )
    request_hash = _request_hash()
    flask.g.idempotency = (key, request_hash)
    stored = idempotency.find(get_session(), actor(), key)
    return None if stored is None else _replay(stored, request_hash)


def _request_hash() -> str:
    request = flask.request
    digest = hashlib.sha256()
    digest.update(
        f"{request.method} {request.path}?{sorted(request.args.items(multi=True))}\n".encode()
    )
    raw = request.get_data(cache=True)
    try:
        # The same JSON however it is spaced or ordered is the same request.
        digest.update(json.dumps(json.loads(raw), sort_keys=True, separators=(",", ":")).encode())
    except (ValueError, RecursionError):
        digest.update(raw)
    return digest.hexdigest()


def _replay(stored: idempotency.StoredResponse, request_hash: str) -> flask.Response:
    if stored.request_hash != request_hash:
        raise IdempotencyKeyReused(
            f"this {IDEMPOTENCY_HEADER} was used with a different request; use a new key "
            "for a new request",
            errors={IDEMPOTENCY_HEADER: ["used before with a different request"]},
        )
    response = flask.Response(stored.body, status=stored.status, headers=stored.headers)
    response.headers[REPLAYED_HEADER] = "true"
    return response


def content_tagged(body: dict[str, Any]) -> flask.Response:
    """A composite representation with a weak ETag over its content, honouring
    If-None-Match."""
    payload = orjson.dumps(body)
    tag = 'W/"' + hashlib.sha256(payload).hexdigest()[:32] + '"'
    if current.request().if_none_match.contains_weak(tag.removeprefix("W/").strip('"')):
        return flask.Response(status=304, headers={"ETag": tag})
    return flask.Response(payload, headers={"ETag": tag}, mimetype=JSON_MEDIA_TYPE)


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


def page(
    result: Page[T],
    present: Callable[[list[T]], Any],
    finish: Callable[[Any], None] | None = None,
) -> flask.Response:
    """A page of a list, with an RFC 8288 ``Link: <...>; rel="next"`` header; ``present``
    turns the page's items into their JSON form (a list, or an orjson.Fragment of the
    whole array), ``finish`` may adjust a list's items in place."""
    headers = {}
    if result.next_cursor is not None:
        query = {**flask.request.args.to_dict(), "cursor": result.next_cursor}
        next_url = f"{flask.request.base_url}?{urlencode(query)}"
        headers["Link"] = f'<{next_url}>; rel="next"'
    items = present(result.items)
    if finish is not None:
        finish(items)
    body = {"items": items, "next_cursor": result.next_cursor}
    return json_response(body, headers=headers)


def history(resource: str, resource_id: Any, args: Mapping[str, Any]) -> flask.Response:
    """A resource's history, oldest first; 404 if it never existed."""
    result = history_service.of_resource(
        get_session(), resource, resource_id, limit=page_limit(args), cursor=args.get("cursor")
    )
    if not result.items and not args.get("cursor"):
        raise NotFound(f"{resource} {resource_id} has no history")
    return page(result, native.each(native.change))


# --- OpenAPI documentation -------------------------------------------------------------

PROBLEM_STATUSES = (400, 401, 403, 404, 405, 409, 412, 413, 415, 422, 428, 500, 503)


def problem_response_name(status: int) -> str:
    return HTTPStatus(status).phrase.title().replace(" ", "").replace("-", "")


IF_MATCH = "IfMatch"
IDEMPOTENCY_KEY = "IdempotencyKey"
IF_NONE_MATCH = "IfNoneMatch"
ETAG_HEADER = {"ETag": "ETag"}
CREATED_HEADERS = {"ETag": "ETag", "Location": "Location"}
PAGE_HEADERS = {"Link": "Link"}

BODY_STATUSES = (400, 413, 415, 422)


# How many query strings (of at most QUERY_MEMORY_LENGTH bytes) QueryParser remembers.
QUERY_MEMORY = 1024
QUERY_MEMORY_LENGTH = 512


class QueryParser(FlaskParser):
    """webargs' parser, reading query strings faster.

    A query string's arguments are a function of the query string alone, and clients
    send the same ones again and again (``limit=100``, ``include=annotations,links``):
    the last QUERY_MEMORY well-formed ones are remembered per schema. And the query
    string is read into a plain dict: webargs wraps it in a proxy that asks the
    MultiDict for every field of the schema, each absent field costing a KeyError
    raised and caught; here only the keys present are read."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._parsed: dict[tuple[ma.Schema, bytes, Any], dict[str, Any]] = {}

    def parse(
        self, argmap: Any, req: Any = None, *, location: str | None = None, **kwargs: Any
    ) -> Any:
        # The error settings shape only failures, and failures are not remembered.
        unknown, validate = kwargs.get("unknown"), kwargs.get("validate")
        if location != "query" or not isinstance(argmap, ma.Schema) or validate is not None:
            return super().parse(argmap, req, location=location, **kwargs)
        query = (req or current.request()).query_string
        key = (argmap, query, unknown)
        parsed = self._parsed.get(key)
        if parsed is None:
            parsed = super().parse(argmap, req, location=location, **kwargs)
            if len(query) <= QUERY_MEMORY_LENGTH:
                if len(self._parsed) >= QUERY_MEMORY:
                    self._parsed.clear()
                self._parsed[key] = parsed
        # A copy, lists included: a view may change its arguments.
        return {name: list(v) if isinstance(v, list) else v for name, v in parsed.items()}

    def _raw_load_json(self, req: flask.Request) -> Any:
        try:
            return super()._raw_load_json(req)
        except RecursionError:  # arrays in arrays... deeper than Python's stack
            raise json.JSONDecodeError("nested too deeply", "[", 0) from None

    def load_querystring(self, req: flask.Request, schema: ma.Schema) -> Any:
        args = req.args
        if not args:
            return {}
        multiple = _multiple_keys(schema)
        return {key: args.getlist(key) if key in multiple else args[key] for key in args}


@lru_cache(maxsize=256)
def _multiple_keys(schema: ma.Schema) -> frozenset[str]:
    """The query keys whose field takes a list of values (as webargs decides it)."""
    return frozenset(MultiDictProxy({}, schema).multiple_keys)


class StoreBlueprint(Blueprint):
    """A blueprint with this service's conventions for arguments and documentation.

    ``read_role`` and ``write_role`` are the least roles that may read and write
    through it (see service.auth); its operations under /v1 need a key, and document
    401 and 403."""

    ARGUMENTS_PARSER = QueryParser()

    def __init__(
        self, *args: Any, read_role: str = "reader", write_role: str = "admin", **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.read_role = read_role
        self.write_role = write_role
        self.protected = (self.url_prefix or "").startswith("/v1")
        self._prepare_doc_cbks.append(self._prepare_extra_parameters_doc)

    # flask-smorest's doc, arguments and response decorators each wrap the view in a
    # function of their own, which every request then calls through, each call asking
    # Flask's current_app proxy and ensure_sync on the way. Here they record the same
    # documentation (by running flask-smorest's decorator and keeping what it wrote)
    # on the view itself, and the only wrapper left is webargs', which parses the
    # arguments.

    def doc(self, **kwargs: Any) -> Callable[[F], F]:
        """flask-smorest's doc, but ``parameters`` (header parameters, by component
        name) add to the query and path parameters instead of replacing them."""
        extra = kwargs.pop("parameters", [])
        document = super().doc(**kwargs)

        def decorate(view: F) -> F:
            apidoc = _documented(view, document)
            apidoc["extra_parameters"] = [*apidoc.get("extra_parameters", []), *extra]
            return view

        return decorate

    def arguments(self, schema: Any, *, location: str = "json", **options: Any) -> Any:
        """flask-smorest's arguments: documented, and parsed by webargs' wrapper."""
        document = super().arguments(schema, location=location, **options)
        parsing = self.ARGUMENTS_PARSER.use_args(
            schema,
            location=location,
            **{name: value for name, value in options.items() if name not in _DOC_ONLY},
        )

        def decorate(view: F) -> F:
            parsed = parsing(view)
            parsed._apidoc = document(view)._apidoc  # type: ignore[attr-defined]
            return cast(F, parsed)

        return decorate

    def response(self, status_code: Any, schema: Any = None, **options: Any) -> Any:
        """flask-smorest's response, documented only: the views here build their
        responses themselves (``json_response``, ``page``, ``resource``), so the view
        must say it returns a ``flask.Response``."""
        document = super().response(status_code, schema, **options)

        def decorate(view: F) -> F:
            returns = getattr(view, "__annotations__", {}).get("return")
            if returns not in ("flask.Response", flask.Response):
                raise TypeError(f"{view.__qualname__} must return a flask.Response")
            _documented(view, document)
            return view

        return decorate

    @staticmethod
    def _prepare_extra_parameters_doc(
        doc: dict[str, Any], doc_info: dict[str, Any], **_kwargs: Any
    ) -> dict[str, Any]:
        doc.setdefault("parameters", []).extend(doc_info.get("extra_parameters", []))
        return doc

    def problems(self, *statuses: int) -> Callable[[F], F]:
        """Document the problem+json error responses an operation can give."""
        if self.protected:
            statuses = (*statuses, 401, 403)

        def decorate(view: F) -> F:
            # What flask-smorest's alt_response records, without its wrapper around the
            # view (see doc above).
            apidoc = deepcopy(getattr(view, "_apidoc", {}))
            responses = apidoc.setdefault("response", {}).setdefault("responses", {})
            for status in sorted(set(statuses)):
                responses.setdefault(status, []).append(problem_response_name(status))
            view._apidoc = apidoc  # type: ignore[attr-defined]
            return view

        return decorate

    def query(self, schema: type[ma.Schema]) -> Callable[[F], F]:
        """Query-string arguments: malformed ones are a 400, not a 422."""
        # An instance, not the class: webargs would build a new schema per request.
        return self.arguments(schema(), location="query", error_status_code=400)

    def body(self, schema: type[ma.Schema], **options: Any) -> Callable[[F], F]:
        """A JSON request body: malformed JSON is a 400, a body that breaks the schema 422."""
        return self.arguments(schema(), location="json", **options)


# flask-smorest's arguments options that only document the arguments; the others are
# webargs' use_args options.
_DOC_ONLY = frozenset({"content_type", "required", "description", "example", "examples"})


def _documented(view: Any, document: Callable[[Any], Any]) -> dict[str, Any]:
    """What flask-smorest's ``document`` decorator records, recorded on the view itself
    rather than on the wrapper it makes (which is dropped); the record, to add to."""
    apidoc: dict[str, Any] = document(view)._apidoc
    view._apidoc = apidoc
    return apidoc
