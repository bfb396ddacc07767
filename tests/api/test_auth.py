"""AUTH_MODE=apikey, gateway and none; roles; the keys API and CLI."""

from __future__ import annotations

import pytest

from service.services import api_keys

PROBLEM = "application/problem+json"
SECRET = "s3cret-from-the-gateway"


@pytest.fixture
def keyed(make_app, session):
    client = make_app(auth_mode="apikey").test_client()
    keys = {role: api_keys.create(session, f"{role}-key", role).secret for role in api_keys.ROLES}
    return client, keys


def bearer(secret):
    return {"Authorization": f"Bearer {secret}"}


def test_request_without_key_is_401_problem_with_challenge(keyed):
    client, _ = keyed
    response = client.get("/v1/documents")
    assert response.status_code == 401
    assert response.content_type == PROBLEM
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "Authorization: Bearer" in response.json["detail"]


@pytest.mark.parametrize("header", ["Bearer nope", "Basic dXNlcjpwYXNz", "Bearer ", "ask_x"])
def test_wrong_or_malformed_key_is_401(keyed, header):
    client, _ = keyed
    response = client.get("/v1/documents", headers={"Authorization": header})
    assert response.status_code == 401


def test_revoked_key_is_401(keyed, session):
    client, keys = keyed
    api_keys.revoke(session, api_keys.find_by_name(session, "reader-key"))
    response = client.get("/v1/documents", headers=bearer(keys["reader"]))
    assert response.status_code == 401
    assert "revoked" in response.json["detail"]


@pytest.mark.parametrize(
    ("role", "method", "path", "body", "allowed"),
    [
        ("reader", "get", "/v1/documents", None, True),
        ("reader", "get", "/v1/schema", None, True),
        ("reader", "post", "/v1/documents", {"text": "x"}, False),
        ("annotator", "post", "/v1/documents", {"text": "x"}, False),
        ("admin", "post", "/v1/documents", {"text": "x"}, True),
        ("reader", "post", "/v1/links", {}, False),
        ("annotator", "post", "/v1/links", {}, True),
        ("annotator", "put", "/v1/schema", {}, False),
        ("annotator", "get", "/v1/keys", None, False),
        ("admin", "get", "/v1/keys", None, True),
    ],
)
def test_roles(keyed, role, method, path, body, allowed):
    client, keys = keyed
    kwargs = {"json": body} if body is not None else {}
    response = getattr(client, method)(path, headers=bearer(keys[role]), **kwargs)
    if allowed:
        assert response.status_code not in (401, 403), response.json
    else:
        assert response.status_code == 403
        assert response.content_type == PROBLEM
        assert f"has role {role}; {method.upper()} {path} needs " in response.json["detail"]


def test_annotator_writes_annotations_as_itself(keyed, session):
    from tests.factories import make_document

    client, keys = keyed
    document = make_document(session, "Putin")
    response = client.post(
        f"/v1/documents/{document.id}/annotations",
        json={"type": "entity", "label": "PERSON", "start": 0, "end": 5, "created_by": "mallory"},
        headers=bearer(keys["annotator"]),
    )
    assert response.status_code == 201
    assert response.json["created_by"] == "annotator-key"


@pytest.mark.parametrize(
    "path", ["/health/live", "/health/ready", "/openapi.json", "/docs", "/metrics"]
)
def test_open_endpoints_need_no_key(keyed, path):
    client, _ = keyed
    assert client.get(path).status_code == 200


def test_cors_preflight_needs_no_key(make_app):
    client = make_app(auth_mode="apikey", cors_origins=("https://tool.example",)).test_client()
    response = client.options(
        "/v1/documents",
        headers={"Origin": "https://tool.example", "Access-Control-Request-Method": "POST"},
    )
    assert response.status_code == 200


def test_served_spec_is_the_same_whatever_the_auth_mode(make_app, client):
    keyed_spec = make_app(auth_mode="apikey").test_client().get("/openapi.json").json
    assert keyed_spec == client.get("/openapi.json").json


# --- the keys API ---------------------------------------------------------------------


def test_admin_creates_lists_and_revokes_keys_over_http(keyed):
    client, keys = keyed
    admin = bearer(keys["admin"])
    created = client.post("/v1/keys", json={"name": "pipeline", "role": "annotator"}, headers=admin)
    assert created.status_code == 201
    secret = created.json["secret"]
    assert secret.startswith("ask_")
    assert created.headers["Location"].endswith(f"/v1/keys/{created.json['id']}")
    listed = client.get("/v1/keys", headers=admin).json["items"]
    assert "secret" not in listed[0]
    assert "pipeline" in {key["name"] for key in listed}
    assert client.get("/v1/documents", headers=bearer(secret)).status_code == 200
    revoke = client.delete(f"/v1/keys/{created.json['id']}", headers=admin)
    assert revoke.status_code == 204
    assert client.get("/v1/documents", headers=bearer(secret)).status_code == 401
    assert client.get(f"/v1/keys/{created.json['id']}", headers=admin).json["revoked_at"]


def test_key_names_are_never_reused(keyed):
    client, keys = keyed
    response = client.post(
        "/v1/keys", json={"name": "reader-key", "role": "reader"}, headers=bearer(keys["admin"])
    )
    assert response.status_code == 409


def test_secrets_are_stored_only_as_hashes(session):
    new = api_keys.create(session, "hashed", "reader")
    assert new.key.secret_hash != new.secret
    assert new.secret not in new.key.secret_hash


# --- gateway mode -----------------------------------------------------------------------


@pytest.fixture
def gateway(make_app):
    return make_app(auth_mode="gateway", auth_gateway_secret=SECRET).test_client()


def test_gateway_identity_is_believed_with_the_secret(gateway, session):
    from tests.factories import make_document

    document = make_document(session, "Putin")
    response = gateway.post(
        f"/v1/documents/{document.id}/annotations",
        json={"type": "entity", "label": "PERSON", "start": 0, "end": 5},
        headers={"X-Gateway-Secret": SECRET, "X-Auth-User": "alice", "X-Auth-Role": "annotator"},
    )
    assert response.status_code == 201
    assert response.json["created_by"] == "alice"


@pytest.mark.parametrize("secret", [None, "wrong-secret-value"])
def test_gateway_headers_without_the_secret_are_401(gateway, secret):
    headers = {"X-Auth-User": "alice", "X-Auth-Role": "admin"}
    if secret:
        headers["X-Gateway-Secret"] = secret
    response = gateway.get("/v1/documents", headers=headers)
    assert response.status_code == 401


def test_gateway_user_without_role_may_only_read(gateway):
    headers = {"X-Gateway-Secret": SECRET, "X-Auth-User": "bob"}
    assert gateway.get("/v1/documents", headers=headers).status_code == 200
    assert gateway.post("/v1/documents", json={"text": "x"}, headers=headers).status_code == 403


# --- the keys CLI -----------------------------------------------------------------------


def test_cli_prints_the_secret_alone_on_the_last_line(app, session):
    result = app.test_cli_runner().invoke(
        args=["keys", "create", "--name", "cli", "--role", "admin"]
    )
    assert result.exit_code == 0, result.output
    secret = result.output.rstrip("\n").split("\n")[-1]
    assert secret.startswith("ask_")
    assert api_keys.authenticate(session, secret).name == "cli"


def test_cli_lists_and_revokes(app, session):
    runner = app.test_cli_runner()
    runner.invoke(args=["keys", "create", "--name", "old", "--role", "reader"])
    assert "old\treader" in runner.invoke(args=["keys", "list"]).output
    result = runner.invoke(args=["keys", "revoke", "--name", "old"])
    assert result.exit_code == 0
    assert "revoked" in runner.invoke(args=["keys", "list"]).output
    missing = runner.invoke(args=["keys", "revoke", "--name", "nobody"])
    assert missing.exit_code == 1
    assert "no key is named 'nobody'" in missing.output
