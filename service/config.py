"""Settings: one explicit map from environment variables to typed values.

Read once by ``create_app``; nothing reads the environment at import time.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import logging
from collections.abc import Callable, Mapping
from typing import Any

DEFAULT_DATABASE_URL = "sqlite:///var/annotation-store.db"
AUTH_MODES = ("apikey", "gateway", "none")


def is_loopback(host: str) -> bool:
    return host == "localhost" or ipaddress.ip_address(host).is_loopback


class ConfigError(ValueError):
    """A configuration value is invalid; the message names the variable."""


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclasses.dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    host: str = "0.0.0.0"
    port: int = 8000
    workers: int = 2
    threads: int = 4
    timeout: int = 30
    auto_migrate: bool = False
    auto_seed: bool = False
    # Keys by default: only `make run` (loopback, development) turns authentication off.
    auth_mode: str = "apikey"
    allow_unauthenticated: bool = False
    auth_gateway_secret: str | None = None
    auth_secret_header: str = "X-Gateway-Secret"
    auth_user_header: str = "X-Auth-User"
    auth_role_header: str = "X-Auth-Role"
    cors_origins: tuple[str, ...] = ()
    trusted_proxies: tuple[Network, ...] = ()
    log_level: str = "INFO"
    require_if_match: bool = False
    idempotency_ttl: int = 24 * 3600
    max_body_bytes: int = 16 * 1024 * 1024
    max_document_length: int = 2_000_000
    max_batch_items: int = 50_000
    max_annotations_per_document: int = 100_000
    page_size_default: int = 50
    page_size_max: int = 1000

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        values: dict[str, Any] = {}
        for field_name, (variable, parse) in _ENVIRONMENT.items():
            raw = environ.get(variable)
            if raw is None or raw.strip() == "":
                continue
            try:
                values[field_name] = parse(raw.strip())
            except ValueError as error:
                raise ConfigError(f"{variable}={raw!r} is invalid: {error}") from None
        settings = cls(**values)
        if settings.auth_mode == "gateway" and not settings.auth_gateway_secret:
            raise ConfigError(
                "AUTH_GATEWAY_SECRET must be set when AUTH_MODE=gateway: identity headers are "
                "believed only with the secret the gateway sends"
            )
        if settings.page_size_default > settings.page_size_max:
            raise ConfigError(
                f"PAGE_SIZE_DEFAULT={settings.page_size_default} exceeds "
                f"PAGE_SIZE_MAX={settings.page_size_max}"
            )
        return settings


def _positive_int(raw: str) -> int:
    value = int(raw)
    if value <= 0:
        raise ValueError("must be a positive integer")
    return value


def _port(raw: str) -> int:
    value = int(raw)
    if not 0 < value < 65536:
        raise ValueError("must be between 1 and 65535")
    return value


def _host(raw: str) -> str:
    if raw != "localhost":
        ipaddress.ip_address(raw)
    return raw


def _choice(*allowed: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        if raw.lower() not in allowed:
            raise ValueError(f"must be one of {', '.join(allowed)}")
        return raw.lower()

    return parse


def _boolean(raw: str) -> bool:
    lowered = raw.lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError("must be true or false")


def _header_name(raw: str) -> str:
    if not all(c.isalnum() or c == "-" for c in raw):
        raise ValueError("must be an HTTP header name such as X-Auth-User")
    return raw


def _secret(raw: str) -> str:
    if len(raw) < 16:
        raise ValueError("must be at least 16 characters")
    return raw


def _log_level(raw: str) -> str:
    level = raw.upper()
    if not isinstance(logging.getLevelName(level), int):
        raise ValueError("must be DEBUG, INFO, WARNING, ERROR or CRITICAL")
    return level


def _origins(raw: str) -> tuple[str, ...]:
    origins = tuple(item.strip().rstrip("/") for item in raw.split(",") if item.strip())
    for origin in origins:
        if origin != "*" and "://" not in origin:
            raise ValueError(f"{origin!r} is not an origin like https://tool.example.org")
    return origins


def _networks(raw: str) -> tuple[Network, ...]:
    return tuple(
        ipaddress.ip_network(item.strip(), strict=False) for item in raw.split(",") if item.strip()
    )


def _database_url(raw: str) -> str:
    if not raw.startswith(("sqlite:", "postgresql:", "postgresql+psycopg:", "postgres:")):
        raise ValueError("must be a sqlite:/// or postgresql+psycopg:// URL")
    if raw.startswith("postgres:"):
        return "postgresql+psycopg:" + raw.removeprefix("postgres:")
    if raw.startswith("postgresql:"):
        return "postgresql+psycopg:" + raw.removeprefix("postgresql:")
    return raw


_ENVIRONMENT: dict[str, tuple[str, Callable[[str], Any]]] = {
    "database_url": ("DATABASE_URL", _database_url),
    "host": ("HOST", _host),
    "port": ("PORT", _port),
    "workers": ("WEB_CONCURRENCY", _positive_int),
    "threads": ("THREADS", _positive_int),
    "timeout": ("TIMEOUT", _positive_int),
    "auto_migrate": ("AUTO_MIGRATE", _boolean),
    "auto_seed": ("AUTO_SEED", _boolean),
    "auth_mode": ("AUTH_MODE", _choice(*AUTH_MODES)),
    "allow_unauthenticated": ("ALLOW_UNAUTHENTICATED", _boolean),
    "auth_gateway_secret": ("AUTH_GATEWAY_SECRET", _secret),
    "auth_secret_header": ("AUTH_SECRET_HEADER", _header_name),
    "auth_user_header": ("AUTH_USER_HEADER", _header_name),
    "auth_role_header": ("AUTH_ROLE_HEADER", _header_name),
    "cors_origins": ("CORS_ORIGINS", _origins),
    "trusted_proxies": ("TRUSTED_PROXIES", _networks),
    "log_level": ("LOG_LEVEL", _log_level),
    "require_if_match": ("REQUIRE_IF_MATCH", _boolean),
    "idempotency_ttl": ("IDEMPOTENCY_TTL", _positive_int),
    "max_body_bytes": ("MAX_BODY_BYTES", _positive_int),
    "max_document_length": ("MAX_DOCUMENT_LENGTH", _positive_int),
    "max_batch_items": ("MAX_BATCH_ITEMS", _positive_int),
    "max_annotations_per_document": ("MAX_ANNOTATIONS_PER_DOCUMENT", _positive_int),
    "page_size_default": ("PAGE_SIZE_DEFAULT", _positive_int),
    "page_size_max": ("PAGE_SIZE_MAX", _positive_int),
}
