"""/v1/documents/{document_id}/annotations and /v1/annotations/{annotation_id}"""

import uuid
from typing import Any

import flask
from flask.views import MethodView
from sqlalchemy.orm import Session

from service.api import exchange, units
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
from service.db import get_session, is_postgresql, read_session, reader, session_reader
from service.errors import BadRequest, Conflict, InvalidSpan
from service.formats import native, w3c
from service.schemas.annotations import (
    AnnotationCreateSchema,
    AnnotationPageSchema,
    AnnotationRestoredSchema,
    AnnotationSchema,
    AnnotationUpdateSchema,
    BatchWriteSchema,
    BatchWrittenSchema,
    CorpusAnnotationListArgsSchema,
    DocumentAnnotationListArgsSchema,
)
from service.schemas.changes import ChangePageSchema, HistoryArgsSchema
from service.services import annotations, batch, documents, revisions

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
    @blp.query(DocumentAnnotationListArgsSchema)
    @blp.response(200, AnnotationPageSchema, headers=PAGE_HEADERS)
    @blp.problems(400, 404)
    def get(self, args: dict[str, Any], document_id: uuid.UUID) -> flask.Response:
        """List a document's annotations

        Filtered by type, labels, status, creator, position (`overlaps`, `within`,
        `at`) and anchor status (orphans only with `anchor=orphaned`); ordered by
        (start, end, id), cursor-paginated. With `revision`, the annotations of that
        revision of the text, with their spans as they were then."""
        unit = units.unit_of(args)
        text = ""
        if args.get("revision") is not None or unit != units.CODEPOINT:
            # Text and annotations read in one transaction, so that they agree.
            session = get_session()
            document = documents.get(session, document_id)
            revision = args.get("revision")
            if revision is not None and revision != document.revision:
                return self._at_revision(session, document, args, unit)
            text = document.text if unit != units.CODEPOINT else ""
            read = session_reader(session)
        else:  # the common case: one statement, outside any transaction
            read = reader()
        narrowed = annotation_filter(
            _positions_in_codepoints(args, text, unit), document_id=document_id
        )
        as_json = unit == units.CODEPOINT  # sent as the database writes it
        result = annotations.query(
            read,
            is_postgresql(),
            narrowed,
            limit=page_limit(args),
            cursor=args.get("cursor"),
            as_json=as_json,
        )
        if not result.items:  # an empty page, or no such document?
            documents.ensure_exists(read, document_id)
        if as_json:
            return units.labelled(page(result, native.json_array), unit)
        response = page(
            result,
            native.annotations_from_wire,
            lambda items: units.from_codepoints(items, text, unit),
        )
        return units.labelled(response, unit)

    @staticmethod
    def _at_revision(
        session: Session, document: Any, args: dict[str, Any], unit: str
    ) -> flask.Response:
        text = revisions.text_at(session, document, args["revision"])
        narrowed = annotation_filter(_positions_in_codepoints(args, text, unit))
        result = revisions.query_at(
            session,
            document,
            args["revision"],
            narrowed,
            limit=page_limit(args),
            cursor=args.get("cursor"),
        )
        response = page(result, list, lambda items: units.from_codepoints(items, text, unit))
        return units.labelled(response, unit)

    @blp.doc(operationId="createAnnotation", parameters=[IDEMPOTENCY_KEY])
    @blp.query(units.OffsetUnitArgsSchema)
    @blp.body(AnnotationCreateSchema)
    @blp.response(201, AnnotationSchema, headers=CREATED_HEADERS)
    @blp.problems(404, *BODY_STATUSES)
    def post(
        self, args: dict[str, Any], fields: dict[str, Any], document_id: uuid.UUID
    ) -> flask.Response:
        """Annotate a span of a document

        The span must satisfy 0 <= start < end <= the document's length; `type` and
        `label` must be in the label schema; `text` is filled by the server, and if
        sent must equal the document's text at [start, end)."""
        session = get_session()
        unit = units.unit_of(args)
        document = documents.get(session, document_id, lock="share")
        annotation = annotations.create(
            session,
            document,
            units.to_codepoints(document.text, unit, fields),
            actor=actor(),
            max_per_document=settings().max_annotations_per_document,
        )
        body = native.annotation(annotation)
        units.from_codepoints([body], document.text, unit)
        created = resource(body, status=201, location=annotation_url(annotation.id))
        return commit(session, units.labelled(created, unit))


def _wants_w3c() -> bool:
    best = flask.request.accept_mimetypes.best_match(["application/json", "application/ld+json"])
    return best == "application/ld+json"


def _positions_in_codepoints(args: dict[str, Any], text: str, unit: str) -> dict[str, Any]:
    """The position filters of a query, from ``unit`` into code points; a position
    inside a character is a malformed query (400)."""
    if unit == units.CODEPOINT:
        return args
    converted = dict(args)
    for name in ("overlaps", "within", "at"):
        value = args.get(name)
        if value is None:
            continue
        offsets = {"start": value[0], "end": value[1]} if name != "at" else {"at": value}
        try:
            moved = units.to_codepoints(text, unit, offsets, tuple(offsets))
        except InvalidSpan as error:
            raise BadRequest(error.detail, errors={name: [error.detail]}) from None
        converted[name] = moved["at"] if name == "at" else (moved["start"], moved["end"])
    return converted


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
        anchor=args.get("anchor"),
    )


@blp.route("/annotations")
class Annotations(MethodView):
    @blp.doc(operationId="listAnnotations")
    @blp.query(CorpusAnnotationListArgsSchema)
    @blp.response(200, AnnotationPageSchema, headers=PAGE_HEADERS)
    @blp.problems(400, 404)
    def get(self, args: dict[str, Any]) -> flask.Response:
        """Search annotations across the corpus

        Filtered by document, type, labels, status, creator, position, anchor status
        and `q` (text containing it, ignoring case); ordered by (document_id, start,
        end, id), cursor-paginated. Positions in utf16 or utf8 need `document_id`, whose
        text converts them (404 if it names no document)."""
        session = get_session()
        unit = units.unit_of(args)
        positions = any(args.get(name) is not None for name in ("overlaps", "within", "at"))
        if positions and unit != units.CODEPOINT:
            if args.get("document_id") is None:
                raise BadRequest(
                    "positions in utf16 or utf8 differ from document to document: give "
                    "document_id with overlaps, within or at",
                    errors={"document_id": ["required with positions in this unit"]},
                )
            text = documents.get(session, args["document_id"]).text
            args = _positions_in_codepoints(args, text, unit)
        as_json = unit == units.CODEPOINT  # sent as the database writes it
        result = annotations.query(
            session_reader(session),
            is_postgresql(),
            annotation_filter(args),
            limit=page_limit(args),
            cursor=args.get("cursor"),
            as_json=as_json,
        )
        if as_json:
            return units.labelled(page(result, native.json_array), unit)

        def in_unit(items: list[dict[str, Any]]) -> None:
            for document_id in {item["document_id"] for item in items}:
                text = documents.get(session, uuid.UUID(document_id)).text
                units.from_codepoints(
                    [item for item in items if item["document_id"] == document_id], text, unit
                )

        return units.labelled(page(result, native.annotations_from_wire, in_unit), unit)


@blp.route("/annotations/<uuid:annotation_id>")
class Annotation(MethodView):
    @blp.doc(
        operationId="getAnnotation",
        parameters=[IF_NONE_MATCH],
        # 200 as an int, as @blp.response records it, so that the two merge.
        responses={
            200: {
                "content": {
                    w3c.MEDIA_TYPE: {"schema": "WebAnnotation"},
                },
                "headers": {
                    "Vary": {
                        "description": "Accept: the representation depends on it",
                        "schema": {"type": "string"},
                    }
                },
            }
        },
    )
    @blp.query(units.OffsetUnitArgsSchema)
    @blp.response(200, AnnotationSchema, headers=ETAG_HEADER)
    @blp.alt_response(304, description="Not modified: the If-None-Match ETag is current")
    @blp.problems(400, 404, 409)
    def get(self, args: dict[str, Any], annotation_id: uuid.UUID) -> flask.Response:
        """Get an annotation

        With `Accept: application/ld+json`, as a W3C Web Annotation (whose
        TextPositionSelector counts code points, as the model says)."""
        session = get_session()
        annotation = annotations.get(session, annotation_id)
        body = native.annotation(annotation)
        if _wants_w3c():
            if annotation.anchor == annotations.ORPHANED:
                raise Conflict(
                    f"annotation {annotation_id} is orphaned: it has no place in the current "
                    "text for a W3C selector; get it as JSON"
                )
            text = documents.get(session, annotation.document_id).text
            response = resource(
                w3c.annotation(body, text, exchange.iri),
                version=annotation.version,
                variant="w3c",
            )
            response.content_type = w3c.MEDIA_TYPE
        else:
            unit = units.unit_of(args)
            if unit != units.CODEPOINT:
                units.from_codepoints(
                    [body], documents.get(session, annotation.document_id).text, unit
                )
            response = units.labelled(resource(body), unit)
        response.vary.add("Accept")
        return response

    @blp.doc(operationId="updateAnnotation", parameters=[IF_MATCH])
    @blp.query(units.OffsetUnitArgsSchema)
    @blp.body(AnnotationUpdateSchema)
    @blp.response(200, AnnotationSchema, headers=ETAG_HEADER)
    @blp.problems(404, 412, *BODY_STATUSES, 428)
    def patch(
        self, args: dict[str, Any], changes: dict[str, Any], annotation_id: uuid.UUID
    ) -> flask.Response:
        """Update an annotation

        A new span or label is checked as on creation; a new type or label must still
        fit the links the annotation is an end of."""
        session = get_session()
        unit = units.unit_of(args)
        annotation = annotations.get(session, annotation_id)
        check_if_match(annotation.version)
        text = (
            documents.get(session, annotation.document_id).text if unit != units.CODEPOINT else ""
        )
        annotations.update(
            session, annotation, units.to_codepoints(text, unit, changes), actor=actor()
        )
        body = native.annotation(annotation)
        units.from_codepoints([body], text, unit)
        return commit(session, units.labelled(resource(body), unit))

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
    @blp.query(units.OffsetUnitArgsSchema)
    @blp.response(201, BatchWrittenSchema, headers={"Location": "Location"})
    @blp.problems(404, *BODY_STATUSES)
    def post(self, args: dict[str, Any], document_id: uuid.UUID) -> flask.Response:
        """Write many annotations and links at once

        All or nothing: every item is checked as a single create would be, and if any
        fails nothing is written and the 422 lists every failing item by its path
        (`annotations.3.end`, `links.0.source_ref`). Links name their ends by the `ref`
        of an annotation of the batch or by the id of a stored one. At most
        MAX_BATCH_ITEMS items (50,000 by default)."""
        body = json_body()
        unit = units.unit_of(args)

        def plan(session: Session, document: Any) -> batch.Plan:
            items = body.get("annotations", [])
            if unit != units.CODEPOINT:
                items = [
                    units.to_codepoints(document.text, unit, item)
                    if isinstance(item, dict)
                    else item
                    for item in items
                ]
            return batch.plan(
                session,
                document,
                items,
                body.get("links", []),
                actor=actor(),
                max_items=settings().max_batch_items,
                max_per_document=settings().max_annotations_per_document,
            )

        planned = None
        if not is_postgresql():
            # One writer at a time: checked before the write lock is taken.
            with read_session() as reading:
                planned = plan(reading, documents.get(reading, document_id))
        session = get_session()
        written = batch.write_plan(
            session,
            document_id,
            planned,
            lambda document: plan(session, document),
            max_per_document=settings().max_annotations_per_document,
        )
        location = flask.url_for(
            "annotations.DocumentAnnotations", document_id=document_id, _external=True
        )
        # Copies: the history keeps the written items in code points.
        body = {"annotations": [dict(a) for a in written.annotations], "links": written.links}
        if unit != units.CODEPOINT:
            text = documents.get(session, document_id).text
            units.from_codepoints(body["annotations"], text, unit)
        response = json_response(body, 201, {"Location": location})
        return commit(session, units.labelled(response, unit))
