"""/v1/links and /v1/documents/{document_id}/links"""

from __future__ import annotations

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
    history,
    no_content,
    page,
    page_limit,
    resource,
)
from service.db import get_session
from service.formats import native
from service.schemas.changes import ChangePageSchema, HistoryArgsSchema
from service.schemas.links import (
    DocumentLinkListArgsSchema,
    LinkCreateSchema,
    LinkListArgsSchema,
    LinkPageSchema,
    LinkSchema,
    LinkUpdateSchema,
)
from service.services import documents, links

blp = StoreBlueprint(
    "links",
    __name__,
    url_prefix="/v1",
    write_role="annotator",
    description="Typed links between two annotations of one document: a quote and its "
    "speaker, a claim and its claimant, mentions of one entity.",
)


def link_url(link_id: uuid.UUID) -> str:
    return flask.url_for("links.Link", link_id=link_id, _external=True)


@blp.route("/links")
class Links(MethodView):
    @blp.doc(operationId="listLinks")
    @blp.query(LinkListArgsSchema)
    @blp.response(200, LinkPageSchema, headers=PAGE_HEADERS)
    @blp.problems(400)
    def get(self, args: dict[str, Any]) -> flask.Response:
        """List links

        Filtered by document, by an annotation at either end, and by type; ordered by
        id, cursor-paginated."""
        result = links.list_page(
            get_session(),
            document_id=args.get("document_id"),
            annotation_id=args.get("annotation_id"),
            link_type=args.get("type"),
            limit=page_limit(args),
            cursor=args.get("cursor"),
        )
        return page(result, native.each(native.link))

    @blp.doc(operationId="createLink", parameters=[IDEMPOTENCY_KEY])
    @blp.body(LinkCreateSchema)
    @blp.response(201, LinkSchema, headers=CREATED_HEADERS)
    @blp.problems(409, *BODY_STATUSES)
    def post(self, fields: dict[str, Any]) -> flask.Response:
        """Link two annotations

        Both ends must exist in the same document, differ, and fit the link type's
        source and target in the label schema. A second link of the same type between
        the same ends (either way round, for a symmetric type) is a 409."""
        session = get_session()
        link = links.create(session, fields, actor=actor())
        return commit(session, resource(native.link(link), status=201, location=link_url(link.id)))


@blp.route("/links/<uuid:link_id>")
class Link(MethodView):
    @blp.doc(operationId="getLink", parameters=[IF_NONE_MATCH])
    @blp.response(200, LinkSchema, headers=ETAG_HEADER)
    @blp.alt_response(304, description="Not modified: the If-None-Match ETag is current")
    @blp.problems(404)
    def get(self, link_id: uuid.UUID) -> flask.Response:
        """Get a link

        Its ETag is its version, for If-Match on a later change."""
        return resource(native.link(links.get(get_session(), link_id)))

    @blp.doc(operationId="updateLink", parameters=[IF_MATCH])
    @blp.body(LinkUpdateSchema)
    @blp.response(200, LinkSchema, headers=ETAG_HEADER)
    @blp.problems(404, 409, 412, *BODY_STATUSES, 428)
    def patch(self, changes: dict[str, Any], link_id: uuid.UUID) -> flask.Response:
        """Update a link

        New ends or a new type are checked as on creation."""
        session = get_session()
        link = links.get(session, link_id)
        check_if_match(link.version)
        links.update(session, link, changes, actor=actor())
        return commit(session, resource(native.link(link)))

    @blp.doc(operationId="deleteLink", parameters=[IF_MATCH])
    @blp.response(204)
    @blp.problems(404, 412, 428)
    def delete(self, link_id: uuid.UUID) -> flask.Response:
        """Delete a link

        Its ends stay. It can be brought back with restoreLink; its history is kept."""
        session = get_session()
        link = links.get(session, link_id)
        check_if_match(link.version)
        links.delete(session, link, actor=actor())
        return commit(session, no_content())


@blp.route("/documents/<uuid:document_id>/links")
class DocumentLinks(MethodView):
    @blp.doc(operationId="listDocumentLinks")
    @blp.query(DocumentLinkListArgsSchema)
    @blp.response(200, LinkPageSchema, headers=PAGE_HEADERS)
    @blp.problems(400, 404)
    def get(self, args: dict[str, Any], document_id: uuid.UUID) -> flask.Response:
        """List a document's links

        Ordered by id, cursor-paginated."""
        session = get_session()
        document = documents.get(session, document_id)
        result = links.list_page(
            session,
            document_id=document.id,
            link_type=args.get("type"),
            limit=page_limit(args),
            cursor=args.get("cursor"),
        )
        return page(result, native.each(native.link))


@blp.route("/links/<uuid:link_id>/history")
class LinkHistory(MethodView):
    @blp.doc(operationId="listLinkHistory")
    @blp.query(HistoryArgsSchema)
    @blp.response(200, ChangePageSchema, headers=PAGE_HEADERS)
    @blp.problems(400, 404)
    def get(self, args: dict[str, Any], link_id: uuid.UUID) -> flask.Response:
        """List a link's history

        Every create, update, delete and restore, oldest first. Kept after a deletion."""
        return history("link", link_id, args)


@blp.route("/links/<uuid:link_id>/restore")
class LinkRestore(MethodView):
    @blp.doc(operationId="restoreLink", parameters=[IDEMPOTENCY_KEY])
    @blp.response(200, LinkSchema, headers=ETAG_HEADER)
    @blp.problems(400, 404, 409, 422)
    def post(self, link_id: uuid.UUID) -> flask.Response:
        """Restore a deleted link

        Brings it back as it was (same id; its version goes on counting) if both ends
        exist and no other link duplicates it; 409 otherwise."""
        session = get_session()
        link = links.restore(session, link_id, actor=actor())
        return commit(session, resource(native.link(link)))
