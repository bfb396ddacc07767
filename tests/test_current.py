"""The current request, globals and app, resolved once instead of read through Flask's
proxies."""

from __future__ import annotations

import flask
import pytest

from service import current


def test_they_are_what_the_proxies_stand_for(app: flask.Flask) -> None:
    with app.test_request_context("/v1/documents?limit=3", method="POST"):
        assert current.request() is flask.request._get_current_object()  # type: ignore[attr-defined]
        assert (current.request().method, current.request().args["limit"]) == ("POST", "3")
        current.g().seen = "here"
        assert flask.g.seen == "here"
        assert current.app() is app


def test_outside_a_request_they_raise_as_the_proxies_do() -> None:
    with pytest.raises(RuntimeError, match="outside of request context"):
        current.request()
    with pytest.raises(RuntimeError, match="outside of application context"):
        current.g()
    with pytest.raises(RuntimeError, match="outside of application context"):
        current.app()
