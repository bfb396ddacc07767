"""The current request, its globals (``g``) and app themselves, for the code every
request runs: each attribute read through Flask's proxies (``flask.request.method``)
costs about 1 us, as the proxy's own lookup raises and catches an AttributeError
before it forwards the name; resolved once, each read costs what a plain attribute
does. Outside a request they raise as the proxies do."""

from __future__ import annotations

from typing import Any

import flask


def request() -> flask.Request:
    return flask.request._get_current_object()  # type: ignore[attr-defined,no-any-return]


def g() -> Any:
    return flask.g._get_current_object()  # type: ignore[attr-defined]


def app() -> flask.Flask:
    return flask.current_app._get_current_object()  # type: ignore[attr-defined,no-any-return]
