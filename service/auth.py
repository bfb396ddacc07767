"""Who is calling, and may they? Resolved once per request before the view runs.

- ``apikey``: ``Authorization: Bearer <key>``, looked up by hash;
- ``gateway``: user and role from the gateway's headers, believed only when the
  shared-secret header matches;
- ``none``: everyone is ``anonymous`` with every right (development on loopback).

Roles are ranked: ``reader`` may read; ``annotator`` may also write annotations and
links; ``admin`` may also write documents and the schema, and manage keys."""

from __future__ import annotations

import hmac
from dataclasses import dataclass

import flask

from service import current
from service.config import Settings
from service.db import get_session
from service.errors import Forbidden, Unauthorized
from service.services import api_keys

ROLE_RANK = {"reader": 0, "annotator": 1, "admin": 2}
READ_METHODS = frozenset({"GET", "HEAD"})
PROTECTED_PREFIX = "/v1/"
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="annotation-store"'}


@dataclass(frozen=True)
class Identity:
    name: str
    role: str


ANONYMOUS = Identity("anonymous", "admin")


def identify(settings: Settings) -> Identity:
    if settings.auth_mode == "none":
        return ANONYMOUS
    if settings.auth_mode == "gateway":
        return _from_gateway(settings)
    return _from_key()


def _from_key() -> Identity:
    header = flask.request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise Unauthorized(
            "this endpoint needs an API key: send Authorization: Bearer <key>", headers=CHALLENGE
        )
    key = api_keys.authenticate(get_session(), secret.strip())
    if key is None:
        raise Unauthorized("the API key is unknown or revoked", headers=CHALLENGE)
    return Identity(key.name, key.role)


def _from_gateway(settings: Settings) -> Identity:
    headers = flask.request.headers
    sent = headers.get(settings.auth_secret_header, "")
    assert settings.auth_gateway_secret is not None
    if not hmac.compare_digest(sent.encode(), settings.auth_gateway_secret.encode()):
        raise Unauthorized(
            f"requests must come through the gateway ({settings.auth_secret_header} is "
            "missing or wrong)"
        )
    user = headers.get(settings.auth_user_header, "").strip()
    if not user:
        raise Unauthorized(f"the gateway sent no user in {settings.auth_user_header}")
    role = headers.get(settings.auth_role_header, "reader").strip().lower() or "reader"
    if role not in ROLE_RANK:
        raise Forbidden(f"the gateway sent an unknown role {role!r}")
    return Identity(user, role)


def required_role() -> str | None:
    """The least role this request needs, or None for open endpoints."""
    request = current.request()
    if not request.path.startswith(PROTECTED_PREFIX) or request.method == "OPTIONS":
        return None
    blueprint = current.app().blueprints.get(request.blueprint or "")
    if request.method in READ_METHODS:
        return getattr(blueprint, "read_role", "reader")
    return getattr(blueprint, "write_role", "admin")


def authorize() -> None:
    """before_request: identify the caller and check their role."""
    needed = required_role()
    if needed is None:
        return
    identity = identify(current.app().extensions["settings"])
    g = current.g()
    g.identity = identity.name
    g.role = identity.role
    if ROLE_RANK[identity.role] < ROLE_RANK[needed]:
        request = current.request()
        raise Forbidden(
            f"{identity.name} has role {identity.role}; {request.method} "
            f"{request.path} needs {needed}",
            required_role=needed,
        )
