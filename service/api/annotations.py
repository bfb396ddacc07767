"""/v1/documents/{document_id}/annotations and /v1/annotations/{annotation_id}"""

import uuid
from typing import Any

import flask
from flask.views import MethodView

from service.api.common import (
    BODY_STATUSES,
    CREATED_HEADERS,
    ETAG_HEADER,
    IDEMPOTENCY_KEY,
    IF_MATCH,
    IF_NONE_MATCH,
    PAGE_HEADERS,
    StoreBlueprint,
    actor,
    check_if_match,
    commit,
    etag,
    history,
    json_body,
    json_response,
    no_content,
    page,
    page_limit,
    resource,
    settings,
)
from service.db import get_session
from service.formats import native
from service.schemas.annotations import (
    AnnotationCreateSchema,
    AnnotationListArgsSchema,
    AnnotationPageSchema,
    AnnotationRestoredSchema,
    AnnotationSchema,
    AnnotationUpdateSchema,
    BatchWriteSchema,
    BatchWrittenSchema,
    CorpusAnnotationListArgsSchema,
)
from service.schemas.changes import ChangePageSchema, HistoryArgsSchema
from service.services import annotations, batch, documents

blp = StoreBlueprint(
    "annotations",
    __name__,
    url_prefix="/v1",
    write_role="annotator",
    description="Spans of a document: entities, quotes and claims. Offsets count Unicode "
    "code points, half-open [start, end).",
)


def annotation_url(annotation_id: uuid.UUID) -> str:
    return flask.url_for("annotations.Annotation", annotation_id=annotation_id, _external=True)


@blp.route("/documents/<uuid:document_id>/annotations")
class DocumentAnnotations(MethodView):
    @blp.doc(operationId="listDocumentAnnotations")
    @blp.query(AnnotationListArgsSchema)
    @blp.response(200, AnnotationPageSchema, headers=PAGE_HEADERS)
    @blp.problems(400, 404)
    def get(self, args: dict[str, Any], document_id: uuid.UUID) -> flask.Response:
        """List a document's annotations

        Filtered by type, labels, status, creator and position (`overlaps`, `within`,
        `at`); ordered by (start, end, id), cursor-paginated."""
        session = get_session()
        narrowed = annotation_filter(args, document_id=document_id)
        result = annotations.query(
            session, narrowed, limit=page_limit(args), cursor=args.get("cursor")
        )
        if not result.items:  # an empty page, or no such document?
            documents.ensure_exists(session, document_id)
        return page(result, native.annotation_from_wire)

    @blp.doc(operationId="createAnnotation", parameters=[IDEMPOTENCY_KEY])
    @blp.body(AnnotationCreateSchema)
    @blp.response(201, AnnotationSchema, headers=CREATED_HEADERS)
    @blp.problems(404, *BODY_STATUSES)
    def post(self, fields: dict[str, Any], document_id: uuid.UUID) -> flask.Response:
        """Annotate a span of a document

        The span must satisfy 0 <= start < end <= the document's length; `type` and
        `label` must be in the label schema; `text` is filled by the server, and if
        sent must equal the document's text at [start, end)."""
        session = get_session()
        document = documents.get(session, document_id)
        annotation = annotations.create(
            session,
            document,
            fields,
            actor=actor(),
            max_per_document=settings().max_annotations_per_document,
        )
        return commit(
            session,
            resource(
                native.annotation(annotation), status=201, location=annotation_url(annotation.id)
            ),
        )


def annotation_filter(args: dict[str, Any], **fixed: Any) -> annotations.Filter:
    return annotations.Filter(
        document_id=fixed.get("document_id", args.get("document_id")),
        type=args.get("type"),
        labels=tuple(args.get("label") or ()),
        status=args.get("status"),
        created_by=args.get("created_by"),
        overlaps=args.get("overlaps"),
        within=args.get("within"),
        at=args.get("at"),
        q=args.get("q"),
    )


@blp.route("/annotations")
class Annotations(MethodView):
    @blp.doc(operationId="listAnnotations")
    @blp.query(CorpusAnnotationListArgsSchema)
    @blp.response(200, AnnotationPageSchema, headers=PAGE_HEADERS)
    @blp.problems(400)
    def get(self, args: dict[str, Any]) -> flask.Response:
        """Search annotations across the corpus

        Filtered by document, type, labels, status, creator, position and `q` (text
        containing it, ignoring case); ordered by (document_id, start, end, id),
        cursor-paginated."""
        result = annotations.query(
            get_session(),
            annotation_filter(args),
            limit=page_limit(args),
            cursor=args.get("cursor"),
        )
        return page(result, native.annotation_from_wire)


@blp.route("/annotations/<uuid:annotation_id>")
class Annotation(MethodView):
    @blp.doc(operationId="getAnnotation", parameters=[IF_NONE_MATCH])
    @blp.response(200, AnnotationSchema, headers=ETAG_HEADER)
    @blp.alt_response(304, description="Not modified: the If-None-Match ETag is current")
    @blp.problems(404)
    def get(self, annotation_id: uuid.UUID) -> flask.Response:
        """Get an annotation"""
        return resource(native.annotation(annotations.get(get_session(), annotation_id)))

    @blp.doc(operationId="updateAnnotation", parameters=[IF_MATCH])
    @blp.body(AnnotationUpdateSchema)
    @blp.response(200, AnnotationSchema, headers=ETAG_HEADER)
    @blp.problems(404, 412, *BODY_STATUSES, 428)
    def patch(self, changes: dict[str, Any], annotation_id: uuid.UUID) -> flask.Response:
        """Update an annotation

        A new span or label is checked as on creation; a new type or label must still
        fit the links the annotation is an end of."""
        session = get_session()
        annotation = annotations.get(session, annotation_id)
        check_if_match(annotation.version)
        annotations.update(session, annotation, changes, actor=actor())
        return commit(session, resource(native.annotation(annotation)))

    @blp.doc(operationId="deleteAnnotation", parameters=[IF_MATCH])
    @blp.response(204)
    @blp.problems(404, 412, 428)
    def delete(self, annotation_id: uuid.UUID) -> flask.Response:
        """Delete an annotation

        The links it is an end of are deleted with it."""
        session = get_session()
        annotation = annotations.get(session, annotation_id)
        check_if_match(annotation.version)
        annotations.delete(session, annotation, actor=actor())
        return commit(session, no_content())


@blp.route("/annotations/<uuid:annotation_id>/history")
class AnnotationHistory(MethodView):
    @blp.doc(operationId="listAnnotationHistory")
    @blp.query(HistoryArgsSchema)
    @blp.response(200, ChangePageSchema, headers=PAGE_HEADERS)
    @blp.problems(400, 404)
    def get(self, args: dict[str, Any], annotation_id: uuid.UUID) -> flask.Response:
        """List an annotation's history

        Every create, update, delete and restore, oldest first, with who, when, the
        request id, and the annotation before and after. Kept after a deletion."""
        return history("annotation", annotation_id, args)


@blp.route("/annotations/<uuid:annotation_id>/restore")
class AnnotationRestore(MethodView):
    @blp.doc(operationId="restoreAnnotation", parameters=[IDEMPOTENCY_KEY])
    @blp.response(200, AnnotationRestoredSchema, headers=ETAG_HEADER)
    @blp.problems(400, 404, 409, 422)
    def post(self, annotation_id: uuid.UUID) -> flask.Response:
        """Restore a deleted annotation

        Brings it back as it was before its deletion (same id; its version goes on
        counting), with the links its deletion removed whose other end still exists.
        409 if it exists, or if its document, label or text is gone."""
        session = get_session()
        annotation, restored = annotations.restore(session, annotation_id, actor=actor())
        body = {
            "annotation": native.annotation(annotation),
            "links": [native.link(link) for link in restored],
        }
        return commit(session, json_response(body, headers={"ETag": etag(annotation.version)}))


@blp.route("/documents/<uuid:document_id>/annotations/batch")
class AnnotationBatch(MethodView):
    @blp.doc(
        operationId="batchWriteAnnotations",
        parameters=[IDEMPOTENCY_KEY],
        requestBody={
            "required": True,
            "content": {"application/json": {"schema": BatchWriteSchema}},
        },
    )
    @blp.response(201, BatchWrittenSchema, headers={"Location": "Location"})
    @blp.problems(404, *BODY_STATUSES)
    def post(self, document_id: uuid.UUID) -> flask.Response:
        """Write many annotations and links at once

        All or nothing: every item is checked as a single create would be, and if any
        fails nothing is written and the 422 lists every failing item by its path
        (`annotations.3.end`, `links.0.source_ref`). Links name their ends by the `ref`
        of an annotation of the batch or by the id of a stored one. At most
        MAX_BATCH_ITEMS items (50,000 by default)."""
        body = json_body()
        session = get_session()
        document = documents.get(session, document_id)
        written = batch.write(
            session,
            document,
            body.get("annotations", []),
            body.get("links", []),
            actor=actor(),
            max_items=settings().max_batch_items,
            max_per_document=settings().max_annotations_per_document,
        )
        location = flask.url_for(
            "annotations.DocumentAnnotations", document_id=document_id, _external=True
        )
        body = {"annotations": written.annotations, "links": written.links}
        return commit(session, json_response(body, 201, {"Location": location}))
