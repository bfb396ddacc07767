"""X-Forwarded-* headers, believed only from trusted proxies (the API gateway)."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Any

from werkzeug.middleware.proxy_fix import ProxyFix

from service.config import Network

# How many peer addresses TrustedProxies remembers its verdict on.
REMEMBERED_PEERS = 4096

FORWARDED_HEADERS = (
    "HTTP_X_FORWARDED_FOR",
    "HTTP_X_FORWARDED_PROTO",
    "HTTP_X_FORWARDED_HOST",
    "HTTP_X_FORWARDED_PORT",
    "HTTP_X_FORWARDED_PREFIX",
)


class TrustedProxies:
    """Apply the forwarded headers of requests that come from a trusted address, and
    drop them from any other request, so that no client can forge its address, scheme
    or the public prefix."""

    def __init__(self, app: Any, networks: Iterable[Network]) -> None:
        self.networks = tuple(networks)
        self.untouched = app
        self.fixed = ProxyFix(app, x_for=1, x_proto=1, x_host=1, x_port=1, x_prefix=1)
        # The verdict by peer address: the peers are few (the gateway, a few clients),
        # and parsing an address costs every request several microseconds.
        self._verdicts: dict[str, bool] = {}

    def _trusted(self, address: str | None) -> bool:
        if not address:
            return False
        verdict = self._verdicts.get(address)
        if verdict is None:
            verdict = self._judge(address)
            if len(self._verdicts) >= REMEMBERED_PEERS:
                self._verdicts.clear()
            self._verdicts[address] = verdict
        return verdict

    def _judge(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.networks)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if self._trusted(environ.get("REMOTE_ADDR")):
            return self.fixed(environ, start_response)
        for header in FORWARDED_HEADERS:
            environ.pop(header, None)
        return self.untouched(environ, start_response)
