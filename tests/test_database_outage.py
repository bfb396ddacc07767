"""When PostgreSQL goes away the API answers 503 problem+json, never 500, and recovers by
itself when it returns."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy.engine import make_url

from service.app import create_app
from service.config import Settings
from tests.tcp_proxy import TcpProxy


@pytest.fixture
def proxied(database_url, engine):
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        pytest.skip("the outage is of a network database: run with TEST_DATABASE_URL")
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    proxy.start()
    app = create_app(
        Settings(
            database_url=url.set(host="127.0.0.1", port=proxy.port).render_as_string(
                hide_password=False
            ),
            auth_mode="none",
        )
    )
    yield proxy, app.test_client()
    proxy.cut()
    app.extensions["db"].engine.dispose()


def test_outage_is_503_and_recovery_is_automatic(proxied):
    proxy, client = proxied
    # A list of annotations reads outside any transaction, straight on the driver.
    annotations = f"/v1/documents/{uuid.uuid4()}/annotations"
    assert client.get("/v1/documents").status_code == 200
    assert client.get("/health/ready").status_code == 200
    assert client.get(annotations).status_code == 404
    assert client.get(annotations).status_code == 404

    proxy.cut()
    for path in ("/v1/documents", "/v1/schema", "/health/ready", annotations):
        response = client.get(path)
        assert response.status_code == 503, path
        assert response.content_type == "application/problem+json"
    response = client.post("/v1/documents", json={"text": "written during the outage"})
    assert response.status_code == 503

    proxy.start()
    assert client.get("/v1/documents").status_code == 200
    assert client.get("/health/ready").status_code == 200
    assert client.get(annotations).status_code == 404


def test_a_read_on_a_connection_lost_meanwhile_is_503_and_the_next_one_works(proxied):
    """The hot reads keep their connection from one request to the next: the first to
    find it lost fails with 503, not 500, and takes the pool's other connections down
    with it, so that none is used dead; the one after it connects anew."""
    proxy, client = proxied
    annotations = f"/v1/documents/{uuid.uuid4()}/annotations"
    assert client.get("/v1/documents").status_code == 200  # a session's connection
    assert client.get(annotations).status_code == 404  # the kept one
    proxy.cut()
    proxy.start()  # back, but every connection made before is gone
    response = client.get(annotations)
    assert response.status_code == 503
    assert response.content_type == "application/problem+json"
    assert response.headers["Retry-After"] == "1"
    assert client.get(annotations).status_code == 404
    assert client.get("/v1/documents").status_code == 200
