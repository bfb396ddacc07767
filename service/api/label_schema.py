"""/v1/schema"""

from __future__ import annotations

from typing import Any

import flask
from flask.views import MethodView

from service.api.common import (
    BODY_STATUSES,
    ETAG_HEADER,
    IF_MATCH,
    IF_NONE_MATCH,
    StoreBlueprint,
    actor,
    check_if_match,
    commit,
    resource,
)
from service.db import get_session
from service.formats import native
from service.schemas.label_schema import LabelSchemaInputSchema, LabelSchemaSchema
from service.services import label_schema

blp = StoreBlueprint(
    "schema",
    __name__,
    url_prefix="/v1/schema",
    description="The label schema: annotation types and their labels, and link types "
    "with what each end may be.",
)


@blp.route("")
class LabelSchema(MethodView):
    @blp.doc(operationId="getLabelSchema", parameters=[IF_NONE_MATCH])
    @blp.response(200, LabelSchemaSchema, headers=ETAG_HEADER)
    @blp.alt_response(304, description="Not modified: the If-None-Match ETag is current")
    @blp.problems()
    def get(self) -> flask.Response:
        """Get the label schema

        The annotation types with their labels, and the link types with the types (and,
        where restricted, labels) allowed at each end. Its ETag is its version."""
        return resource(native.label_schema(label_schema.current(get_session())))

    @blp.doc(operationId="replaceLabelSchema", parameters=[IF_MATCH])
    @blp.body(LabelSchemaInputSchema)
    @blp.response(200, LabelSchemaSchema, headers=ETAG_HEADER)
    @blp.problems(409, 412, *BODY_STATUSES, 428)
    def put(self, fields: dict[str, Any]) -> flask.Response:
        """Replace the label schema

        Link ends must name annotation types (and labels) of the schema. If stored
        annotations or links would break the new schema, nothing changes and the 409
        lists them."""
        session = get_session()
        check_if_match(label_schema.current_for_change(session).version)
        schema = label_schema.replace(
            session, fields["annotation_types"], fields["link_types"], actor=actor()
        )
        return commit(session, resource(native.label_schema(schema)))
