"""The application factory."""

from __future__ import annotations

import inspect
import logging
import os
from collections.abc import Callable, Mapping
from http import HTTPStatus
from pathlib import Path
from typing import Any

import flask
import flask_swagger_ui
from flask_cors import CORS
from flask_smorest import Api
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge, UnsupportedMediaType

from service import api as api_views
from service import auth, current, logs, metrics, ui
from service.api import contract
from service.api.common import (
    PROBLEM_STATUSES,
    check_idempotency,
    problem_response_name,
    replay_after_refusal,
)
from service.config import Settings
from service.db import Database, make_engine
from service.errors import (
    CHANGED_MEANWHILE,
    PROBLEM_MEDIA_TYPE,
    Conflict,
    DomainError,
    PreconditionFailed,
    RuleViolation,
    ServiceUnavailable,
    conflict_from_integrity_error,
    flatten_messages,
    problem_body,
)
from service.proxy import TrustedProxies
from service.schemas.common import ProblemSchema

log = logging.getLogger(__name__)

API_TITLE = "Annotation Store"
API_VERSION = "1.0.0"
SWAGGER_UI_ASSETS = Path(flask_swagger_ui.__file__).resolve().parent / "dist"
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
# Where marshmallow and webargs put messages about the body as a whole.
BODY_KEYS = ("_body", "_schema")


class StoreFlask(flask.Flask):
    """Flask, remembering which functions are coroutines.

    Flask asks ``ensure_sync`` of every view, wrapper and hook of every request, and
    each answer is an ``inspect`` call; here each function is looked at once."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._coroutine: dict[Any, bool] = {}

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        # Bound methods are made anew on each access: remember their function.
        key = getattr(func, "__func__", func)
        coroutine = self._coroutine.get(key)
        if coroutine is None:
            coroutine = inspect.iscoroutinefunction(func)
            # Bounded: a function made per request (after_this_request) is not kept.
            if len(self._coroutine) < 4096:
                self._coroutine[key] = coroutine
        return self.async_to_sync(func) if coroutine else func


class StoreApi(Api):
    """flask-smorest, speaking RFC 9457 problem details for every error."""

    DEFAULT_ERROR_RESPONSE_NAME = None

    def _init_spec(self, **options: Any) -> None:
        options.setdefault("extra_plugins", [contract.ContractPlugin()])
        super()._init_spec(**options)

    def _register_responses(self) -> None:
        self.ma_plugin.converter.add_attribute_function(contract.example_by_format)
        # Headers first: the responses below refer to them.
        for name, description in contract.HEADERS.items():
            self.spec.components.header(
                name, {"description": description, "schema": {"type": "string"}}, lazy=True
            )
        self.spec.components.schema("Problem", schema=ProblemSchema)
        for name, definition in contract.SCHEMAS.items():
            self.spec.components.schema(name, definition, lazy=True)
        for status in PROBLEM_STATUSES:
            headers = [contract.REQUEST_ID_HEADER]
            if status == 503:
                headers.append(contract.RETRY_AFTER_HEADER)
            self.spec.components.response(
                problem_response_name(status),
                {
                    "description": HTTPStatus(status).phrase,
                    "content": {PROBLEM_MEDIA_TYPE: {"schema": "Problem"}},
                    "headers": {name: name for name in headers},
                },
                lazy=True,
            )

    def _register_etag_headers(self) -> None:
        self.spec.components.parameter(
            "IfMatch",
            "header",
            {
                "name": "If-Match",
                "description": "Apply the change only if the resource still has this ETag "
                "(412 otherwise)",
                "schema": {"type": "string"},
                "required": False,
            },
            lazy=True,
        )
        self.spec.components.parameter(
            "IfNoneMatch",
            "header",
            {
                "name": "If-None-Match",
                "description": "Answer 304 without a body if the resource still has this ETag",
                "schema": {"type": "string"},
                "required": False,
            },
            lazy=True,
        )
        self.spec.components.parameter(
            "IdempotencyKey",
            "header",
            {
                "name": "Idempotency-Key",
                "description": "Makes a retry safe: a second request with the same key and "
                "body gets the first response (with Idempotent-Replayed: true) without "
                "writing again; the same key with another body is a 422. Keys last "
                "IDEMPOTENCY_TTL seconds (24 h by default)",
                "schema": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": 255,
                    "pattern": "^[!-~]+$",
                },
                "required": False,
            },
            lazy=True,
        )

    def _register_pagination_header(self) -> None:
        """Pages carry a Link header instead (see ``_register_responses``)."""

    def handle_http_exception(self, error: HTTPException) -> flask.Response:
        status = error.code or 500
        data = getattr(error, "data", None) or {}
        body = problem_body(status, detail=_http_detail(error, data))
        errors = flatten_messages(data.get("messages") or {})
        whole_body = [message for key in BODY_KEYS for message in errors.pop(key, [])]
        if whole_body:
            body["detail"] = " ".join(whole_body)
        if errors:
            body["errors"] = errors
        headers = dict(data.get("headers") or {})
        if status == 405:
            headers.update({k: v for k, v in error.get_headers() if k == "Allow"})
        return problem_response(body, headers)

    def _openapi_json(self) -> flask.Response:
        spec = self.spec.to_dict()
        spec["servers"] = [{"url": flask.request.script_root or "/"}]
        return flask.current_app.response_class(
            flask.json.dumps(spec, indent=2, sort_keys=False), mimetype="application/json"
        )


def _http_detail(error: HTTPException, data: Mapping[str, Any]) -> str:
    if data.get("messages"):
        return "the request is not valid; see errors for each field"
    if "message" in data:
        return str(data["message"])
    if error.code == 404:
        return f"nothing is found at {flask.request.path}"
    if error.code == 405:
        return f"{flask.request.method} is not allowed on {flask.request.path}"
    return error.description or HTTPStatus(error.code or 500).phrase


def problem_response(
    body: dict[str, Any], headers: Mapping[str, str] | None = None
) -> flask.Response:
    response = flask.current_app.response_class(
        flask.json.dumps(body), status=body["status"], mimetype=PROBLEM_MEDIA_TYPE
    )
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def create_app(config: Settings | Mapping[str, str] | None = None) -> flask.Flask:
    """Build the app. ``config`` is Settings, or a mapping read like the environment
    (the process environment by default)."""
    if isinstance(config, Settings):
        settings = config
    else:
        settings = Settings.from_env(os.environ if config is None else config)
    logs.configure(settings.log_level)

    app = StoreFlask(__name__)
    app.config.update(
        API_TITLE=API_TITLE,
        API_VERSION=API_VERSION,
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="/docs",
        # Relative, so that it follows the public prefix behind a gateway.
        OPENAPI_SWAGGER_UI_URL="docs/assets/",
        MAX_CONTENT_LENGTH=settings.max_body_bytes,
        API_SPEC_OPTIONS={
            "info": {
                "description": "A store for news documents, the span annotations made on "
                "them (entities, quotes, claims) and the typed links between those "
                "annotations. Offsets count Unicode code points, half-open [start, end). "
                "Errors are RFC 9457 problem details.",
            },
            "servers": [{"url": "/"}],
            # Declared whatever AUTH_MODE is, so that the contract does not change.
            "security": [{"bearerAuth": []}],
            "components": {
                "securitySchemes": {
                    "bearerAuth": {
                        "type": "http",
                        "scheme": "bearer",
                        "description": "An API key (`flask keys create`), or the gateway's "
                        "identity when AUTH_MODE=gateway",
                    }
                }
            },
        },
    )
    app.extensions["settings"] = settings
    database = Database(make_engine(settings.database_url), threads=settings.threads)
    database.init_app(app)
    metrics.watch_pool(database.engine, kept=lambda: len(database.kept))

    api = StoreApi(app)
    api_views.register(api)
    _register_docs_assets(app)
    app.register_blueprint(ui.bp)
    _register_error_handlers(app)
    app.before_request(_before_request)
    app.after_request(_after_request)
    app.teardown_request(logs.end_request)
    app.add_url_rule("/metrics", "metrics", metrics.exposition)

    if settings.cors_origins:
        CORS(
            app,
            origins=list(settings.cors_origins),
            expose_headers=["ETag", "Location", "Link", "X-Request-ID"],
            allow_headers=["Content-Type", "Authorization", "If-Match", "If-None-Match"],
            methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
        )
    app.wsgi_app = TrustedProxies(app.wsgi_app, settings.trusted_proxies)  # type: ignore[method-assign]

    from service import cli

    cli.register(app)
    return app


def _register_docs_assets(app: flask.Flask) -> None:
    def docs_asset(filename: str) -> flask.Response:
        return flask.send_from_directory(SWAGGER_UI_ASSETS, filename, max_age=86400)

    app.add_url_rule("/docs/assets/<path:filename>", "docs_asset", docs_asset)


def _before_request() -> flask.Response | None:
    """Every request, in this order: its id and clock, the body's type and size, the
    caller's identity and role, a body sent in chunks (read only now), the replay of an
    Idempotency-Key seen before. (One hook, not five: Flask's per-hook cost is paid on
    every request.)"""
    logs.start_request()
    chunked = _check_body()
    auth.authorize()
    if chunked:
        _read_chunked_body()  # only for whom the key lets in
    return check_idempotency()


def _after_request(response: flask.Response) -> flask.Response:
    """Every response: counted and timed, then given its request id and logged."""
    return logs.finish_request(metrics.observe(response))


def _check_body() -> bool:
    """Bodies are JSON, and no larger than the configured limit; returns whether the
    body came in chunks, without a length, to be read once the caller is known."""
    request = current.request()
    if request.method not in BODY_METHODS:
        return False
    has_body = bool(request.content_length) or request.headers.get("Transfer-Encoding")
    if not has_body:
        return False
    limit = flask.current_app.config["MAX_CONTENT_LENGTH"]
    if request.content_length and request.content_length > limit:
        raise RequestEntityTooLarge(f"the request body is larger than {limit} bytes")
    if not request.is_json:
        view = flask.current_app.view_functions.get(request.endpoint or "")
        accepted: frozenset[str] = getattr(
            getattr(view, "view_class", None), "accepts", frozenset()
        )
        if request.mimetype not in accepted:
            expected = ", ".join(sorted({"application/json", *accepted}))
            raise UnsupportedMediaType(
                f"the request body must be {expected}, not {request.mimetype or 'untyped'}"
            )
    return request.content_length is None


def _read_chunked_body() -> None:
    """A body sent in chunks, without a length: werkzeug stops reading at the limit
    without a word, and the rest would be dropped. Read it now, and look one byte
    beyond."""
    request = current.request()
    limit = flask.current_app.config["MAX_CONTENT_LENGTH"]
    if len(request.get_data(cache=True)) >= limit and request.environ["wsgi.input"].read(1):
        raise RequestEntityTooLarge(f"the request body is larger than {limit} bytes")


def _register_error_handlers(app: flask.Flask) -> None:
    @app.errorhandler(DomainError)
    def _domain_error(error: DomainError) -> flask.Response:
        return replay_after_refusal() or problem_response(error.problem(), error.headers)

    @app.errorhandler(StaleDataError)
    def _stale(_error: StaleDataError) -> flask.Response:
        return problem_response(PreconditionFailed(CHANGED_MEANWHILE).problem())

    @app.errorhandler(IntegrityError)
    def _integrity(error: IntegrityError) -> flask.Response:
        conflict = conflict_from_integrity_error(error)
        if conflict is None:
            log.warning("integrity error from a concurrent change: %s", error.orig)
            conflict = Conflict(
                "the request conflicts with a concurrent change (an annotation deleted "
                "meanwhile, say); read again and retry"
            )
        return replay_after_refusal() or problem_response(conflict.problem())

    @app.errorhandler(DataError)
    def _unstorable(error: DataError) -> flask.Response:
        # The services refuse what they know the databases cannot hold; this is the
        # backstop for anything else a database refuses to store.
        log.warning("value refused by the database: %s", error.orig)
        problem = RuleViolation(
            f"the database cannot store a value of this request: {str(error.orig).splitlines()[0]}"
        )
        return problem_response(problem.problem())

    @app.errorhandler(OperationalError)
    def _database_unavailable(error: DBAPIError) -> flask.Response:
        log.error("database unavailable: %s", error.orig)
        problem = ServiceUnavailable("the database is unavailable or busy; try again shortly")
        return problem_response(problem.problem(), {"Retry-After": "1"})

    @app.errorhandler(Exception)
    def _unexpected(_error: Exception) -> flask.Response:
        log.exception("unhandled error")
        return problem_response(problem_body(500, detail="an unexpected error occurred"))
