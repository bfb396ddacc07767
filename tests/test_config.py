from __future__ import annotations

import ipaddress

import pytest

from service.app import create_app
from service.config import DEFAULT_DATABASE_URL, ConfigError, Settings


def test_defaults_without_environment():
    settings = Settings.from_env({})
    assert settings.database_url == DEFAULT_DATABASE_URL
    assert settings.port == 8000
    assert settings.auth_mode == "apikey"
    assert settings.page_size_default == 50
    assert settings.page_size_max == 1000


def test_environment_is_parsed():
    settings = Settings.from_env(
        {
            "DATABASE_URL": "postgresql://u@db/annotations",
            "PORT": "9000",
            "CORS_ORIGINS": "https://a.example, https://b.example/",
            "TRUSTED_PROXIES": "10.0.0.0/8, 127.0.0.1",
            "LOG_LEVEL": "debug",
            "MAX_BODY_BYTES": "2048",
        }
    )
    assert settings.database_url == "postgresql+psycopg://u@db/annotations"
    assert settings.port == 9000
    assert settings.cors_origins == ("https://a.example", "https://b.example")
    assert ipaddress.ip_address("10.9.8.7") in settings.trusted_proxies[0]
    assert settings.log_level == "DEBUG"
    assert settings.max_body_bytes == 2048


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("PORT", "eighty"),
        ("PORT", "70000"),
        ("AUTH_MODE", "maybe"),
        ("DATABASE_URL", "mysql://x"),
        ("TRUSTED_PROXIES", "10.0.0.0/33"),
        ("CORS_ORIGINS", "tool.example"),
        ("LOG_LEVEL", "LOUD"),
        ("MAX_BODY_BYTES", "-1"),
        ("PAGE_SIZE_MAX", "0"),
    ],
)
def test_invalid_value_names_the_variable(variable, value):
    with pytest.raises(ConfigError, match=f"^{variable}="):
        Settings.from_env({variable: value})


def test_create_app_refuses_invalid_configuration():
    with pytest.raises(ConfigError, match="PORT"):
        create_app({"PORT": "x"})


def test_cors_allows_configured_origins_and_exposes_headers(make_app):
    client = make_app(cors_origins=("https://tool.example",)).test_client()
    preflight = client.options(
        "/v1/documents",
        headers={
            "Origin": "https://tool.example",
            "Access-Control-Request-Method": "PATCH",
            "Access-Control-Request-Headers": "If-Match, Content-Type",
        },
    )
    assert preflight.headers["Access-Control-Allow-Origin"] == "https://tool.example"
    assert "PATCH" in preflight.headers["Access-Control-Allow-Methods"]
    response = client.get("/v1/schema", headers={"Origin": "https://tool.example"})
    assert "ETag" in response.headers["Access-Control-Expose-Headers"]
    other = client.get("/v1/schema", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers
