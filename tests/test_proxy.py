"""TrustedProxies: forwarded headers believed only from trusted peers."""

import ipaddress

import pytest

from service import proxy


def seen_by_app(middleware, remote_addr):
    """The environ the wrapped app gets for a request from ``remote_addr``."""
    environ = {
        "REMOTE_ADDR": remote_addr,
        "HTTP_X_FORWARDED_PROTO": "https",
        "HTTP_X_FORWARDED_FOR": "203.0.113.9",
        "wsgi.url_scheme": "http",
    }
    middleware(environ, lambda *_: None)
    return middleware.seen


@pytest.fixture
def middleware():
    def app(environ, _start_response):
        middleware.seen = dict(environ)
        return []

    middleware = proxy.TrustedProxies(app, [ipaddress.ip_network("10.0.0.0/8")])
    return middleware


@pytest.mark.parametrize("attempt", [1, 2], ids=["first", "remembered"])
def test_a_trusted_peer_is_believed_every_time(middleware, attempt):
    for _ in range(attempt):
        seen = seen_by_app(middleware, "10.1.2.3")
    assert seen["wsgi.url_scheme"] == "https"
    assert seen["REMOTE_ADDR"] == "203.0.113.9"


@pytest.mark.parametrize("address", ["192.0.2.1", "not an address", ""])
def test_any_other_peer_has_its_forwarded_headers_dropped_every_time(middleware, address):
    for _ in range(2):
        seen = seen_by_app(middleware, address)
        assert seen["wsgi.url_scheme"] == "http"
        assert "HTTP_X_FORWARDED_PROTO" not in seen
        assert "HTTP_X_FORWARDED_FOR" not in seen


def test_the_verdicts_remembered_are_bounded(middleware, monkeypatch):
    monkeypatch.setattr(proxy, "REMEMBERED_PEERS", 3)
    for host in range(10):
        seen_by_app(middleware, f"192.0.2.{host}")
        assert len(middleware._verdicts) <= 3
    assert seen_by_app(middleware, "10.9.9.9")["wsgi.url_scheme"] == "https"
