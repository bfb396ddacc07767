"""/v1/documents/{id}/export, /v1/export and /v1/import: the field's formats."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote

import flask
import marshmallow as ma
from flask.views import MethodView
from marshmallow import fields, validate

from service.api.common import (
    IDEMPOTENCY_KEY,
    StoreBlueprint,
    actor,
    commit,
    json_response,
    settings,
)
from service.db import get_session
from service.errors import RuleViolation
from service.formats import brat, bundle, conll, pubannotation, spacy_doc, w3c
from service.formats.exchange import Exported, FormatError, IncomingDocument, check
from service.schemas.common import described
from service.services import documents, exports, imports

blp = StoreBlueprint(
    "exchange",
    __name__,
    url_prefix="/v1",
    description="Export to and import from the field's formats: W3C Web Annotation, "
    "PubAnnotation, brat standoff, CoNLL, spaCy and the store's own JSON lines bundles. "
    "Offsets in every format count Unicode code points.",
)

# format: (media type, file extension) of one document's export
EXPORT_FORMATS = {
    "w3c": (w3c.MEDIA_TYPE, "jsonld"),
    "pubannotation": ("application/json", "json"),
    "brat": ("text/plain; charset=utf-8", "ann"),
    "conll": ("text/plain; charset=utf-8", "conll"),
    "spacy": ("application/json", "spacy.json"),
    "spacy-docbin": ("application/octet-stream", "spacy"),
    "jsonl": ("application/x-ndjson", "jsonl"),
}
# format: media type of a corpus export (brat becomes a zip of .txt/.ann pairs)
CORPUS_MEDIA_TYPES = {
    **{k: v for k, (v, _) in EXPORT_FORMATS.items() if k != "spacy-docbin"},
    "brat": "application/zip",
}
IMPORT_FORMATS = {
    "w3c": ("application/ld+json", "application/json"),
    "pubannotation": ("application/json",),
    "jsonl": ("application/x-ndjson", "application/jsonl", "application/json"),
    "brat": ("application/zip",),
}


class ExportArgsSchema(ma.Schema):
    format = fields.String(
        required=True,
        validate=validate.OneOf(EXPORT_FORMATS),
        metadata=described(
            "w3c, pubannotation, brat (the .ann), conll, spacy (Doc JSON), spacy-docbin "
            "(a .spacy file, where spaCy is installed) or jsonl (the store's bundle)",
            example="w3c",
        ),
    )


class CorpusExportArgsSchema(ma.Schema):
    format = fields.String(
        required=True,
        validate=validate.OneOf([f for f in EXPORT_FORMATS if f != "spacy-docbin"]),
        metadata=described(
            "w3c (a JSON array of collections), pubannotation and spacy (JSON arrays), "
            "brat (a zip of .txt and .ann pairs), conll, or jsonl (one bundle per line)",
            example="jsonl",
        ),
    )
    q = fields.String(metadata=described("Only documents matching these words"))
    external_id = fields.String(metadata=described("Only this document"))
    published_after = fields.AwareDateTime(metadata=described("Published at or after"))
    published_before = fields.AwareDateTime(metadata=described("Published at or before"))


class ImportArgsSchema(ma.Schema):
    format = fields.String(
        required=True,
        validate=validate.OneOf(IMPORT_FORMATS),
        metadata=described("w3c, pubannotation, jsonl or brat (a zip)", example="jsonl"),
    )
    document_id = fields.UUID(
        metadata=described("For w3c, which carries no text: the document it annotates")
    )
    external_id = fields.String(
        metadata=described("For w3c: the document it annotates, by external_id")
    )


class CountsSchema(ma.Schema):
    created = fields.Integer(required=True, metadata=described("Newly stored", example=150))
    matched = fields.Integer(
        required=True, metadata=described("Already stored: not repeated", example=0)
    )
    not_located = fields.Integer(
        required=True, metadata=described("Could not be placed in the stored text", example=0)
    )


class ImportedDocumentSchema(ma.Schema):
    id = fields.UUID(required=True, metadata=described("The stored document"))
    external_id = fields.String(
        required=True,
        allow_none=True,
        metadata=described("Its external_id, if it has one", example="000_56075bffde052d65.txt"),
    )
    document_created = fields.Boolean(
        required=True,
        metadata=described(
            "Whether the import created it (false: it was stored already)", example=True
        ),
    )
    annotations = fields.Nested(CountsSchema, required=True)
    links = fields.Nested(CountsSchema, required=True)
    not_located = fields.List(
        fields.String(),
        required=True,
        metadata=described("Where in the input each item that could not be placed was"),
    )


class ImportReportSchema(ma.Schema):
    documents = fields.List(
        fields.Nested(ImportedDocumentSchema),
        required=True,
        metadata=described("What happened to each document of the input, in input order"),
    )


def iri(collection: str, identifier: str) -> str:
    """The public URL of a resource, for W3C ids."""
    return f"{flask.request.url_root.rstrip('/')}/v1/{collection}/{identifier}"


def _attachment(name: str) -> dict[str, str]:
    """A download name as RFC 6266 gives it: a plain ASCII fallback, and the exact name
    percent-encoded in UTF-8 when it differs (external ids may hold anything)."""
    fallback = _UNSAFE_IN_FILENAME.sub("_", name)
    value = f'attachment; filename="{fallback}"'
    if fallback != name:
        value += f"; filename*=UTF-8''{quote(name, safe='')}"
    return {"Content-Disposition": value}


_UNSAFE_IN_FILENAME = re.compile(r"[^A-Za-z0-9._-]")


def _document_export(exported: Exported, fmt: str) -> bytes | str | None:
    if fmt == "w3c":
        return json.dumps(w3c.collection(exported, iri), ensure_ascii=False)
    if fmt == "pubannotation":
        return json.dumps(pubannotation.document(exported), ensure_ascii=False)
    if fmt == "brat":
        return brat.ann(exported)
    if fmt == "conll":
        return conll.document(exported)
    if fmt == "spacy":
        return json.dumps(spacy_doc.document(exported), ensure_ascii=False)
    if fmt == "spacy-docbin":
        return spacy_doc.docbin(exported)
    return "".join(bundle.jsonl(iter([exported])))


CORPUS_STREAMS: dict[str, Callable[[Iterator[Exported]], Iterator[Any]]] = {
    "w3c": lambda docs: w3c.stream(docs, iri),
    "pubannotation": pubannotation.stream,
    "brat": brat.zip_stream,
    "conll": conll.stream,
    "spacy": spacy_doc.stream,
    "jsonl": bundle.jsonl,
}


def _export_doc(description: str, media_types: dict[str, str], json_schema: str) -> dict[str, Any]:
    """The 200 of an export: JSON formats by ``json_schema``, the others as files."""

    def schema(media: str) -> str:
        return json_schema if media.startswith(JSON_MEDIA_TYPES) else "ExportFile"

    return {
        "responses": {
            "200": {
                "description": description,
                "content": {
                    media: {"schema": schema(media)} for media in sorted(set(media_types.values()))
                },
            }
        }
    }


JSON_MEDIA_TYPES = ("application/json", "application/ld+json")


@blp.route("/documents/<uuid:document_id>/export")
class DocumentExport(MethodView):
    @blp.doc(
        operationId="exportDocument",
        **_export_doc(
            "The document in the format asked for",
            {k: v for k, (v, _) in EXPORT_FORMATS.items()},
            "DocumentExport",
        ),
    )
    @blp.query(ExportArgsSchema)
    @blp.problems(400, 404, 422)
    def get(self, args: dict[str, Any], document_id: uuid.UUID) -> flask.Response:
        """Export a document

        With its annotations and links, in one of the field's formats."""
        session = get_session()
        document = documents.get(session, document_id)
        fmt = args["format"]
        body = _document_export(exports.exported(session, document), fmt)
        if body is None:
            raise RuleViolation(
                "spacy-docbin needs spaCy installed beside the service; use format=spacy",
                errors={"format": ["spaCy is not installed here"]},
            )
        media_type, extension = EXPORT_FORMATS[fmt]
        name = f"{document.external_id or document.id}.{extension}"
        return flask.Response(
            body, mimetype=None, content_type=media_type, headers=_attachment(name)
        )


@blp.route("/export")
class CorpusExport(MethodView):
    @blp.doc(
        operationId="exportCorpus",
        **_export_doc(
            "The documents, streamed in the format asked for", CORPUS_MEDIA_TYPES, "CorpusExport"
        ),
    )
    @blp.query(CorpusExportArgsSchema)
    @blp.problems(400)
    def get(self, args: dict[str, Any]) -> flask.Response:
        """Export the corpus

        Every document (or those the filters select) with its annotations and links,
        streamed one document at a time."""
        search = documents.Search(
            q=args.get("q"),
            external_id=args.get("external_id"),
            published_after=args.get("published_after"),
            published_before=args.get("published_before"),
        )
        fmt = args["format"]
        session = get_session()

        def chunks() -> Iterator[Any]:
            # The request's teardown closes the session before the body streams; the
            # stream reads through it again and must give its connection back itself.
            try:
                yield from CORPUS_STREAMS[fmt](exports.corpus(session, search))
            finally:
                session.close()

        extension = "zip" if fmt == "brat" else EXPORT_FORMATS[fmt][1]
        return flask.Response(
            flask.stream_with_context(chunks()),
            content_type=CORPUS_MEDIA_TYPES[fmt],
            headers=_attachment(f"corpus.{extension}"),
        )


def _parse_import(fmt: str, raw: bytes) -> list[IncomingDocument]:
    if fmt == "brat":
        return brat.parse_zip(raw, max_unpacked=settings().max_body_bytes)
    try:
        text = raw.decode("utf-8").removeprefix("\ufeff")  # a byte-order mark, from editors
    except UnicodeDecodeError:
        raise FormatError("", "the body is not UTF-8") from None
    if fmt == "jsonl":
        return bundle.parse_jsonl(text)
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        raise FormatError("", "the body is not JSON") from None
    if fmt == "w3c":
        return [w3c.parse(data)]
    return pubannotation.parse(data)


@blp.route("/import")
class Import(MethodView):
    # Bodies of these media types are taken as they are (see app._check_body).
    accepts = frozenset(t for types in IMPORT_FORMATS.values() for t in types)

    @blp.doc(
        operationId="importAnnotations",
        parameters=[IDEMPOTENCY_KEY],
        requestBody={
            "required": True,
            "content": {
                media: {"schema": "ImportFile"}
                for media in sorted({t for types in IMPORT_FORMATS.values() for t in types})
            },
        },
    )
    @blp.query(ImportArgsSchema)
    @blp.response(200, ImportReportSchema)
    @blp.problems(400, 404, 413, 415, 422)
    def post(self, args: dict[str, Any]) -> flask.Response:
        """Import documents and annotations

        Formats that carry the text (pubannotation, jsonl, brat) create or match
        documents, by external_id or identical text; w3c names its document by
        `document_id` or `external_id`. Where the stored text differs, spans are
        re-located by their quotes; what cannot be placed is reported, not dropped.
        Everything is checked by the API's rules: one refused item refuses the import,
        and the 422 names each by its place in the input (a JSON pointer, a line, or a
        brat file and line)."""
        fmt = args["format"]
        media_type = flask.request.mimetype
        if media_type not in IMPORT_FORMATS[fmt]:
            raise RuleViolation(
                f"format={fmt} is sent as {' or '.join(IMPORT_FORMATS[fmt])}, not {media_type}",
                errors={"format": [f"does not match the body's media type {media_type}"]},
            )
        try:
            incoming = check(_parse_import(fmt, flask.request.get_data()))
        except FormatError as error:
            raise imports.ImportRefused(
                f"the body is not valid {fmt}: {error}", errors={error.where or "/": [error.reason]}
            ) from None
        session = get_session()
        target = imports.target_document(session, args.get("document_id"), args.get("external_id"))
        if fmt == "w3c" and target is None:
            raise RuleViolation(
                "W3C annotations carry no text: name their document with document_id= or "
                "external_id=",
                errors={"document_id": ["required for format=w3c"]},
            )
        reports = imports.apply(
            session,
            incoming,
            actor=actor(),
            target=target,
            max_length=settings().max_document_length,
            max_per_document=settings().max_annotations_per_document,
        )
        body = {
            "documents": [
                {
                    "id": report.document_id,
                    "external_id": report.external_id,
                    "document_created": report.document_created,
                    "annotations": vars(report.annotations),
                    "links": vars(report.links),
                    "not_located": report.not_located,
                }
                for report in reports
            ]
        }
        return commit(session, json_response(body))
