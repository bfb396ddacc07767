"""/v1/documents"""

import uuid
from typing import Any

import flask
from flask.views import MethodView

from service.api import units
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
    content_tagged,
    history,
    json_response,
    no_content,
    page,
    page_limit,
    resource,
    settings,
)
from service.db import get_session, is_postgresql, snapshot_reader
from service.formats import native
from service.schemas.changes import ChangePageSchema, HistoryArgsSchema
from service.schemas.common import PageArgsSchema
from service.schemas.documents import (
    DocumentCreateSchema,
    DocumentGetArgsSchema,
    DocumentListArgsSchema,
    DocumentPageSchema,
    DocumentSchema,
    DocumentUpdateSchema,
    DocumentWithRelationsSchema,
    EntityListSchema,
)
from service.schemas.revisions import DocumentTextSchema, RevisionPageSchema, TextRevisedSchema
from service.services import annotations, bundle, documents, entities, links, revisions

blp = StoreBlueprint(
    "documents",
    __name__,
    url_prefix="/v1/documents",
    description="News documents: texts and their metadata.",
)


def document_url(document_id: uuid.UUID) -> str:
    return flask.url_for("documents.Document", document_id=document_id, _external=True)


@blp.route("")
class Documents(MethodView):
    @blp.doc(operationId="listDocuments")
    @blp.query(DocumentListArgsSchema)
    @blp.response(200, DocumentPageSchema, headers=PAGE_HEADERS)
    @blp.problems(400)
    def get(self, args: dict[str, Any]) -> flask.Response:
        """List or search documents

        With `q`, a ranked full-text search over title and text (best match first);
        otherwise in id (creation) order. Filtered by `external_id` and publication
        time; cursor-paginated."""
        search = documents.Search(
            q=args.get("q"),
            external_id=args.get("external_id"),
            published_after=args.get("published_after"),
            published_before=args.get("published_before"),
        )
        result = documents.list_page(
            get_session(), search, limit=page_limit(args), cursor=args.get("cursor")
        )
        return page(result, native.each(native.document))

    @blp.doc(operationId="createDocument", parameters=[IDEMPOTENCY_KEY])
    @blp.body(DocumentCreateSchema)
    @blp.response(201, DocumentSchema, headers=CREATED_HEADERS)
    @blp.problems(409, *BODY_STATUSES)
    def post(self, fields: dict[str, Any]) -> flask.Response:
        """Create a document

        `text` is required and not empty; `external_id`, if given, must be unused (409)."""
        session = get_session()
        document = documents.create(
            session, fields, actor=actor(), max_length=settings().max_document_length
        )
        return commit(
            session,
            resource(native.document(document), status=201, location=document_url(document.id)),
        )


@blp.route("/<uuid:document_id>")
class Document(MethodView):
    @blp.doc(operationId="getDocument", parameters=[IF_NONE_MATCH])
    @blp.query(DocumentGetArgsSchema)
    @blp.response(200, DocumentWithRelationsSchema, headers=ETAG_HEADER)
    @blp.alt_response(304, description="Not modified: the If-None-Match ETag is current")
    @blp.problems(400, 404)
    def get(self, args: dict[str, Any], document_id: uuid.UUID) -> flask.Response:
        """Get a document

        With `include=annotations,links`, all its annotations (but the orphaned ones)
        and links come in the same response (a document holds at most
        MAX_ANNOTATIONS_PER_DOCUMENT annotations, 100,000 by default). That response's
        ETag is a weak one over the whole body, for caching; use the document's own
        ETag (or `version`) in If-Match. With `revision`, the text (and the
        annotations' spans) as they were at that revision."""
        include = set(args.get("include") or ())
        unit = units.unit_of(args)
        if args.get("revision") is None and unit == units.CODEPOINT:
            return self._current(document_id, include)
        session = get_session()
        document = documents.get(session, document_id)
        revision: int = args.get("revision") or document.revision
        earlier = revision != document.revision
        if earlier:
            body = revisions.document_at(session, document, revision)
        else:
            body = native.document(document)
        if not include:
            return resource(body, variant=f"r{revision}" if earlier else None)
        if "annotations" in include:
            if earlier:
                body["annotations"] = revisions.annotations_at(
                    session, document, revision, anchor=None
                )
            elif unit == units.CODEPOINT:  # sent as the database writes them
                body["annotations"] = native.json_array(
                    annotations.json_of_document(session, document_id)
                )
            else:
                body["annotations"] = native.annotations_from_wire(
                    annotations.all_of_document(session, document_id)
                )
            units.from_codepoints(body["annotations"], body["text"], unit)
        if "links" in include:
            body["links"] = native.links_from_wire(links.all_of_document(session, document_id))
        return units.labelled(content_tagged(body), unit)

    @staticmethod
    def _current(document_id: uuid.UUID, include: set[str]) -> flask.Response:
        """The common case, the document as it is now with offsets in code points: read
        from one snapshot in one round trip, its annotations sent as the database
        writes them."""
        found = bundle.read(
            snapshot_reader(),
            is_postgresql(),
            document_id,
            with_annotations="annotations" in include,
            with_links="links" in include,
        )
        body = native.document_from_wire(found.document)
        if not include:
            return resource(body)
        if "annotations" in include:
            body["annotations"] = native.json_array(found.annotations)
        if "links" in include:
            body["links"] = native.links_from_wire(found.links)
        return units.labelled(content_tagged(body), units.CODEPOINT)

    @blp.doc(operationId="updateDocument", parameters=[IF_MATCH])
    @blp.body(DocumentUpdateSchema)
    @blp.response(200, DocumentSchema, headers=ETAG_HEADER)
    @blp.problems(404, 409, 412, *BODY_STATUSES, 428)
    def patch(self, changes: dict[str, Any], document_id: uuid.UUID) -> flask.Response:
        """Update a document's metadata

        Changes `title`, `source_url`, `published_at`, `language`, `metadata` and
        `external_id`; the text cannot be changed by PATCH (422): PUT it to
        `/v1/documents/{document_id}/text`."""
        session = get_session()
        document = documents.get(session, document_id)
        check_if_match(document.version)
        documents.update(session, document, changes, actor=actor())
        return commit(session, resource(native.document(document)))

    @blp.doc(operationId="deleteDocument", parameters=[IF_MATCH])
    @blp.response(204)
    @blp.problems(404, 412, 428)
    def delete(self, document_id: uuid.UUID) -> flask.Response:
        """Delete a document

        Its annotations and links are deleted with it."""
        session = get_session()
        document = documents.get(session, document_id)
        check_if_match(document.version)
        documents.delete(session, document, actor=actor())
        return commit(session, no_content())


@blp.route("/<uuid:document_id>/text")
class DocumentText(MethodView):
    @blp.doc(operationId="replaceDocumentText", parameters=[IF_MATCH])
    @blp.body(DocumentTextSchema)
    @blp.response(200, TextRevisedSchema, headers=ETAG_HEADER)
    @blp.problems(404, 412, *BODY_STATUSES, 428)
    def put(self, fields: dict[str, Any], document_id: uuid.UUID) -> flask.Response:
        """Correct a document's text

        Stores the text as a new revision (the earlier ones are kept) and, in the same
        transaction, carries every annotation over: mapped through the difference of
        the two texts, each gets an `anchor` status: `exact` (untouched), `shifted`
        (same text, new offsets), `fuzzy` (its text changed slightly, found again by
        its quote, prefix and suffix, with a similarity of at least 0.75, typography
        aside) or `orphaned` (not found: it keeps its last span and text, leaves the
        default lists, and is listed with `anchor=orphaned`). Links to orphans are kept
        and flagged `dangling`. The response counts each status and names the orphans.
        If-Match with the document's ETag is required (428 without it)."""
        session = get_session()
        document = documents.get(session, document_id, lock="update")
        check_if_match(document.version, required=True)
        revised = revisions.replace_text(
            session,
            document,
            fields["text"],
            actor=actor(),
            max_length=settings().max_document_length,
        )
        body = {
            "changed": revised.changed,
            "document": native.document(document),
            "anchoring": revised.report(),
        }
        return commit(session, resource(body, version=document.version))


@blp.route("/<uuid:document_id>/revisions")
class DocumentRevisions(MethodView):
    @blp.doc(operationId="listDocumentRevisions")
    @blp.query(PageArgsSchema)
    @blp.response(200, RevisionPageSchema, headers=PAGE_HEADERS)
    @blp.problems(400, 404)
    def get(self, args: dict[str, Any], document_id: uuid.UUID) -> flask.Response:
        """List the revisions of a document's text

        Oldest first: each with its length, who stored it and when, and what
        re-anchoring did to the annotations when it replaced the one before. Read one
        with `GET /v1/documents/{document_id}?revision=N`."""
        session = get_session()
        document = documents.get(session, document_id)
        result = revisions.list_page(
            session, document, limit=page_limit(args), cursor=args.get("cursor")
        )
        return page(result, native.each(native.revision))


@blp.route("/<uuid:document_id>/history")
class DocumentHistory(MethodView):
    @blp.doc(operationId="listDocumentHistory")
    @blp.query(HistoryArgsSchema)
    @blp.response(200, ChangePageSchema, headers=PAGE_HEADERS)
    @blp.problems(400, 404)
    def get(self, args: dict[str, Any], document_id: uuid.UUID) -> flask.Response:
        """List a document's history

        Every create, update and delete of the document, oldest first, with who, when,
        the request id, and the document before and after. Kept after a deletion."""
        return history("document", document_id, args)


@blp.route("/<uuid:document_id>/entities")
class DocumentEntities(MethodView):
    @blp.doc(operationId="listDocumentEntities")
    @blp.query(units.OffsetUnitArgsSchema)
    @blp.response(200, EntityListSchema)
    @blp.problems(400, 404)
    def get(self, args: dict[str, Any], document_id: uuid.UUID) -> flask.Response:
        """List a document's entities

        Entity mentions joined by `coreference` links (directly or through others) are
        one entity; a mention linked to nothing is an entity of its own. Each has the
        name of its longest proper-name mention, that mention's label, and its mentions
        in text order."""
        session = get_session()
        unit = units.unit_of(args)
        text = documents.get(session, document_id).text
        body = native.page(entities.of_document(session, document_id), None, native.entity)
        units.from_codepoints([m for e in body["items"] for m in e["mentions"]], text, unit)
        return units.labelled(json_response(body), unit)
