"""/v1/keys: API keys, for admins."""

from __future__ import annotations

import uuid
from typing import Any

import flask
from flask.views import MethodView

from service.api.common import (
    BODY_STATUSES,
    PAGE_HEADERS,
    StoreBlueprint,
    json_response,
    no_content,
    page,
    page_limit,
)
from service.db import get_session
from service.formats import native
from service.schemas.api_keys import (
    ApiKeyCreateSchema,
    ApiKeyListArgsSchema,
    ApiKeyPageSchema,
    ApiKeySchema,
    NewApiKeySchema,
)
from service.services import api_keys

blp = StoreBlueprint(
    "keys",
    __name__,
    url_prefix="/v1/keys",
    read_role="admin",
    write_role="admin",
    description="API keys and their roles. Secrets are shown once and stored as hashes.",
)


@blp.route("")
class ApiKeys(MethodView):
    @blp.doc(operationId="listApiKeys")
    @blp.query(ApiKeyListArgsSchema)
    @blp.response(200, ApiKeyPageSchema, headers=PAGE_HEADERS)
    @blp.problems(400)
    def get(self, args: dict[str, Any]) -> flask.Response:
        """List API keys

        Revoked keys stay listed, with `revoked_at`."""
        result = api_keys.list_page(
            get_session(), limit=page_limit(args), cursor=args.get("cursor")
        )
        return page(result, native.each(native.api_key))

    @blp.doc(operationId="createApiKey")
    @blp.body(ApiKeyCreateSchema)
    @blp.response(201, NewApiKeySchema, headers={"Location": "Location"})
    @blp.problems(409, *BODY_STATUSES)
    def post(self, fields: dict[str, Any]) -> flask.Response:
        """Create an API key

        The response is the only place the secret appears."""
        session = get_session()
        new = api_keys.create(session, fields["name"], fields["role"])
        session.commit()
        location = flask.url_for("keys.ApiKey", key_id=new.key.id, _external=True)
        body = {**native.api_key(new.key), "secret": new.secret}
        return json_response(body, 201, {"Location": location})


@blp.route("/<uuid:key_id>")
class ApiKey(MethodView):
    @blp.doc(operationId="getApiKey")
    @blp.response(200, ApiKeySchema)
    @blp.problems(404)
    def get(self, key_id: uuid.UUID) -> flask.Response:
        """Get an API key

        Its name, role and times; never its secret, which is not stored."""
        return json_response(native.api_key(api_keys.get(get_session(), key_id)))

    @blp.doc(operationId="revokeApiKey")
    @blp.response(204)
    @blp.problems(404)
    def delete(self, key_id: uuid.UUID) -> flask.Response:
        """Revoke an API key

        It stops working at once; its record stays, so its name is never reused."""
        session = get_session()
        api_keys.revoke(session, api_keys.get(session, key_id))
        session.commit()
        return no_content()
