"""What the contract says of every operation, so that no view has to repeat it: the
X-Request-ID every response carries, the 503 of an unavailable database, the
Idempotent-Replayed header of a replayed POST, and examples for ids and times."""

from __future__ import annotations

from typing import Any

from apispec import BasePlugin

REQUEST_ID_HEADER = "X-Request-ID"
RETRY_AFTER_HEADER = "Retry-After"
REPLAYED_HEADER = "Idempotent-Replayed"
OFFSET_UNIT_HEADER = "Offset-Unit"

# Examples by format, for the many ids and timestamps that would otherwise each need one.
FORMAT_EXAMPLES = {
    "uuid": "01932c07-8a1e-7c3b-9f4d-2b6e5a7c8d90",
    "date-time": "2026-11-27T09:30:00Z",
}

HEADERS = {
    "ETag": "The resource's version, for If-Match and If-None-Match",
    "Location": "URL of the created resource",
    "Link": 'RFC 8288 link to the next page, on every page but the last: <url>; rel="next"',
    REQUEST_ID_HEADER: "The request's id, as in the logs: the caller's X-Request-ID when it "
    "looks like an id (1 to 128 letters, digits, '.', '_' or '-'), a new one otherwise",
    RETRY_AFTER_HEADER: "Seconds to wait before trying again",
    REPLAYED_HEADER: "`true` when this is the stored response to an earlier request with the "
    "same Idempotency-Key",
    OFFSET_UNIT_HEADER: "The unit of the offsets in this response: codepoint, utf16 or utf8",
}


class ContractPlugin(BasePlugin):
    """Adds to each operation what every operation of its kind has."""

    def operation_helper(
        self, path: str | None = None, operations: dict[str, Any] | None = None, **_: Any
    ) -> None:
        for operation in (operations or {}).values():
            responses = operation.get("responses", {})
            # Parameters are dicts, or component names (header parameters) until resolved.
            names = {
                p.get("name") if isinstance(p, dict) else p for p in operation.get("parameters", [])
            }
            if path is not None and path.startswith("/v1/") and "503" not in responses:
                responses["503"] = "ServiceUnavailable"
            for status, response in responses.items():
                if not isinstance(response, dict):
                    continue  # a shared response: it declares its headers itself
                links = LINKS.get((operation.get("operationId", ""), str(status)))
                if links:
                    response["links"] = links
                headers = response.setdefault("headers", {})
                headers[REQUEST_ID_HEADER] = REQUEST_ID_HEADER
                if "IdempotencyKey" in names and str(status).startswith("2"):
                    headers[REPLAYED_HEADER] = REPLAYED_HEADER
                if "offset_unit" in names and str(status).startswith("2"):
                    headers[OFFSET_UNIT_HEADER] = OFFSET_UNIT_HEADER


# OpenAPI links: how a response feeds the next request, for clients and for stateful
# fuzzing (a document created, then annotated, read, changed and deleted).
BODY_ID = "$response.body#/id"
ETAG = "$response.header.ETag"


def _link(operation_id: str, **parameters: str) -> dict[str, Any]:
    return {"operationId": operation_id, "parameters": parameters}


def _write_link(operation_id: str, **parameters: str) -> dict[str, Any]:
    """A link to a write that needs the ETag just read."""
    return _link(operation_id, **parameters, **{"header.If-Match": ETAG})


LINKS: dict[tuple[str, str], dict[str, dict[str, Any]]] = {
    ("createDocument", "201"): {
        "GetDocument": _link("getDocument", document_id=BODY_ID),
        "UpdateDocument": _write_link("updateDocument", document_id=BODY_ID),
        "ReplaceDocumentText": _write_link("replaceDocumentText", document_id=BODY_ID),
        "DeleteDocument": _write_link("deleteDocument", document_id=BODY_ID),
        "CreateAnnotation": _link("createAnnotation", document_id=BODY_ID),
        "BatchWriteAnnotations": _link("batchWriteAnnotations", document_id=BODY_ID),
        "ListDocumentAnnotations": _link("listDocumentAnnotations", document_id=BODY_ID),
        "ListDocumentLinks": _link("listDocumentLinks", document_id=BODY_ID),
        "ListDocumentRevisions": _link("listDocumentRevisions", document_id=BODY_ID),
        "ListDocumentHistory": _link("listDocumentHistory", document_id=BODY_ID),
        "ListDocumentEntities": _link("listDocumentEntities", document_id=BODY_ID),
        "ExportDocument": _link("exportDocument", document_id=BODY_ID),
    },
    ("getDocument", "200"): {
        "UpdateDocument": _write_link("updateDocument", document_id="$request.path.document_id"),
    },
    ("createAnnotation", "201"): {
        "GetAnnotation": _link("getAnnotation", annotation_id=BODY_ID),
        "UpdateAnnotation": _write_link("updateAnnotation", annotation_id=BODY_ID),
        "DeleteAnnotation": _write_link("deleteAnnotation", annotation_id=BODY_ID),
        "ListAnnotationHistory": _link("listAnnotationHistory", annotation_id=BODY_ID),
    },
    ("getAnnotation", "200"): {
        "UpdateAnnotation": _write_link(
            "updateAnnotation", annotation_id="$request.path.annotation_id"
        ),
    },
    ("deleteAnnotation", "204"): {
        "RestoreAnnotation": _link(
            "restoreAnnotation", annotation_id="$request.path.annotation_id"
        ),
    },
    ("batchWriteAnnotations", "201"): {
        "GetAnnotation": _link("getAnnotation", annotation_id="$response.body#/annotations/0/id"),
    },
    ("createLink", "201"): {
        "GetLink": _link("getLink", link_id=BODY_ID),
        "UpdateLink": _write_link("updateLink", link_id=BODY_ID),
        "DeleteLink": _write_link("deleteLink", link_id=BODY_ID),
        "ListLinkHistory": _link("listLinkHistory", link_id=BODY_ID),
    },
    ("deleteLink", "204"): {
        "RestoreLink": _link("restoreLink", link_id="$request.path.link_id"),
    },
    ("getLabelSchema", "200"): {
        "ReplaceLabelSchema": _write_link("replaceLabelSchema"),
    },
    ("createApiKey", "201"): {
        "GetApiKey": _link("getApiKey", key_id=BODY_ID),
        "RevokeApiKey": _link("revokeApiKey", key_id=BODY_ID),
    },
}


def example_by_format(_converter: Any, field: Any, ret: dict[str, Any]) -> dict[str, Any]:
    """An apispec attribute function: the shared example of an id or a timestamp field
    that has none of its own."""
    example = FORMAT_EXAMPLES.get(ret.get("format", ""))
    if example is None or "example" in ret or "example" in field.metadata:
        return {}
    return {"example": example}


# Bodies that are not JSON objects of the store's own, named so that generators give
# them a type and readers a description.
SCHEMAS: dict[str, dict[str, Any]] = {
    "ExportFile": {
        "type": "string",
        "format": "binary",
        "description": "An export in the format asked for: W3C Web Annotation JSON-LD, "
        "PubAnnotation JSON, brat standoff (a zip of .txt and .ann for a corpus), CoNLL "
        "(IOB2), spaCy JSON or the store's own JSON lines bundles",
    },
    "DocumentExport": {
        "type": "object",
        "description": "One document in a JSON format: a W3C AnnotationCollection "
        "(JSON-LD), a PubAnnotation document, or spaCy's Doc JSON",
    },
    "CorpusExport": {
        "type": "array",
        "items": {"type": "object"},
        "description": "The documents in a JSON format, one array item each: W3C "
        "AnnotationCollections, PubAnnotation documents or spaCy Doc JSON",
    },
    "ImportFile": {
        "type": "string",
        "format": "binary",
        "description": "An import in the format the `format` parameter names: W3C Web "
        "Annotation JSON-LD, PubAnnotation JSON, JSON lines bundles, or a zip of brat "
        "standoff files",
    },
    "WebAnnotation": {
        "type": "object",
        "description": "A W3C Web Annotation (https://www.w3.org/TR/annotation-model/): the "
        "type and label as classifying and tagging bodies, the rest of the annotation as a "
        "describing JSON body, and the span as a TextPositionSelector (code points) with a "
        "TextQuoteSelector",
        "required": ["@context", "id", "type", "body", "target"],
        "properties": {
            "@context": {
                "type": "string",
                "description": "The Web Annotation JSON-LD context",
                "example": "http://www.w3.org/ns/anno.jsonld",
            },
            "id": {
                "type": "string",
                "description": "The annotation's IRI",
                "example": "https://store.example/v1/annotations/01932c07-8a1e-7c3b-9f4d-2b6e5a7c8d90",
            },
            "type": {"type": "string", "description": "Always Annotation", "example": "Annotation"},
            "motivation": {
                "type": "string",
                "description": "classifying for a span",
                "example": "classifying",
            },
            "body": {
                "type": "array",
                "description": "Its type, label and other fields as TextualBody objects",
                "items": {"type": "object"},
            },
            "target": {
                "type": "object",
                "description": "A SpecificResource: the document's IRI and the span's selectors",
            },
        },
    },
}
