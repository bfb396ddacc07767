"""/v1/changes: the change feed."""

from __future__ import annotations

from typing import Any

import flask
from flask.views import MethodView

from service.api.common import StoreBlueprint, json_response, page_limit
from service.db import get_session
from service.formats import native
from service.schemas.changes import ChangeFeedArgsSchema, ChangeFeedSchema
from service.services import history

blp = StoreBlueprint(
    "changes",
    __name__,
    url_prefix="/v1/changes",
    description="Every change to documents, annotations, links and the schema, in commit "
    "order, for consumers that follow the store.",
)


@blp.route("")
class Changes(MethodView):
    @blp.doc(operationId="listChanges")
    @blp.query(ChangeFeedArgsSchema)
    @blp.response(200, ChangeFeedSchema)
    @blp.problems(400)
    def get(self, args: dict[str, Any]) -> flask.Response:
        """Follow the change feed

        Changes in commit order, each with a `seq` that increases with commit order and
        the resource after the change. `next_cursor` is never null: keep it, and ask
        again later to get only what was committed since. A consumer never misses or
        sees twice a change, even while writers commit concurrently."""
        result = history.feed(
            get_session(),
            document_id=args.get("document_id"),
            resource=args.get("resource"),
            limit=page_limit(args),
            cursor=args.get("cursor"),
        )
        return json_response(native.page(result.items, result.next_cursor, native.change))
