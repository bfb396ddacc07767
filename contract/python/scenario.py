"""The SDK scenario in Python, through nothing but the client that openapi-python-client
generates from the committed spec: what a newcomer's first session with the store does.

    python scenario.py BASE_URL      (the generated package on PYTHONPATH)
"""

from __future__ import annotations

import sys
from http import HTTPStatus
from typing import Any

from annotation_store_client import Client
from annotation_store_client.api.annotations import (
    create_annotation,
    list_document_annotations,
    update_annotation,
)
from annotation_store_client.api.documents import create_document, delete_document
from annotation_store_client.api.links import create_link, list_document_links
from annotation_store_client.models import (
    Annotation,
    AnnotationCreate,
    AnnotationPage,
    AnnotationUpdate,
    Document,
    DocumentCreate,
    Link,
    LinkCreate,
    LinkPage,
    Problem,
)
from annotation_store_client.types import Response

TEXT = "Kim Jong-un said: “We are allies.” Putin agreed in Moscow on Tuesday."


def expect(response: Response[Any], status: int, kind: type) -> Any:
    """The parsed body of a response that must have this status and typed body."""
    parsed = response.parsed
    if response.status_code != status or not isinstance(parsed, kind):
        raise AssertionError(
            f"expected {status} and a {kind.__name__}, got {int(response.status_code)} "
            f"parsed as {type(parsed).__name__}: {response.content[:500]!r}"
        )
    return parsed


def step(message: str) -> None:
    print(f"ok   {message}")


def annotate(client: Client, document: Document, **fields: Any) -> Annotation:
    response = create_annotation.sync_detailed(
        document.id, client=client, body=AnnotationCreate(**fields)
    )
    annotation: Annotation = expect(response, HTTPStatus.CREATED, Annotation)
    assert annotation.document_id == document.id
    assert annotation.text == TEXT[annotation.start : annotation.end]
    return annotation


def main(base_url: str) -> None:
    client = Client(base_url=base_url, raise_on_unexpected_status=True)

    response = create_document.sync_detailed(
        client=client, body=DocumentCreate(text=TEXT, language="en", title="contract scenario")
    )
    document: Document = expect(response, HTTPStatus.CREATED, Document)
    assert document.length == len(TEXT), document.length
    assert response.headers["ETag"] == f'"{document.version}"', response.headers.get("ETag")
    step(f"created document {document.id} ({document.length} code points)")

    kim = annotate(client, document, type_="entity", label="PERSON", start=0, end=11)
    quote = annotate(
        client, document, type_="quote", label="DIRECT", start=19, end=33, text="We are allies."
    )
    step(f"annotated it: {kim.label} {kim.text!r}, {quote.label} quote {quote.text!r}")

    response = create_link.sync_detailed(
        client=client, body=LinkCreate(type_="speaker", source_id=quote.id, target_id=kim.id)
    )
    link: Link = expect(response, HTTPStatus.CREATED, Link)
    assert (link.source_id, link.target_id, link.document_id) == (quote.id, kim.id, document.id)
    links = expect(
        list_document_links.sync_detailed(document.id, client=client), HTTPStatus.OK, LinkPage
    )
    assert [item.id for item in links.items] == [link.id], links.items
    step(f"linked the quote to its speaker: link {link.id}, listed by the document")

    putin = annotate(client, document, type_="entity", label="PERSON", start=35, end=40)
    moscow = annotate(client, document, type_="entity", label="GPE", start=51, end=57)
    tuesday = annotate(client, document, type_="entity", label="DATE", start=61, end=68)
    created = [kim, quote, putin, moscow, tuesday]
    pages: list[list[Annotation]] = []
    cursor: str | None = None
    while True:
        page: AnnotationPage = expect(
            list_document_annotations.sync_detailed(
                document.id, client=client, limit=2, **({"cursor": cursor} if cursor else {})
            ),
            HTTPStatus.OK,
            AnnotationPage,
        )
        pages.append(page.items)
        cursor = page.next_cursor
        if cursor is None:
            break
        assert len(pages) < 10, "next_cursor never ends"
    seen = [annotation.id for items in pages for annotation in items]
    expected = [a.id for a in sorted(created, key=lambda a: (a.start, a.end, str(a.id)))]
    assert seen == expected, (seen, expected)
    assert [len(items) for items in pages] == [2, 2, 1], [len(items) for items in pages]
    step(f"paged through {len(seen)} annotations with limit=2: pages of 2, 2, 1 by next_cursor")

    response = create_annotation.sync_detailed(
        document.id,
        client=client,
        body=AnnotationCreate(type_="entity", label="PERSON", start=35, end=len(TEXT) + 5),
    )
    problem: Problem = expect(response, HTTPStatus.UNPROCESSABLE_ENTITY, Problem)
    assert (problem.status, problem.type_) == (422, "urn:annotation-store:problem:invalid-span")
    assert "end" in problem.errors.additional_properties, problem.errors
    step(f"a span beyond the text is a typed 422 Problem: {problem.detail!r}")

    response = create_annotation.sync_detailed(
        document.id,
        client=client,
        body=AnnotationCreate(type_="entity", label="PERSON", start=35, end=40, text="Putain"),
    )
    problem = expect(response, HTTPStatus.UNPROCESSABLE_ENTITY, Problem)
    assert all(text in problem.detail for text in ("Putain", "Putin")), problem.detail
    step(f"a text that is not the slice is a typed 422 Problem: {problem.detail!r}")

    stale = f'"{putin.version}"'
    response = update_annotation.sync_detailed(
        putin.id, client=client, body=AnnotationUpdate(label="NORP"), if_match=stale
    )
    updated: Annotation = expect(response, HTTPStatus.OK, Annotation)
    assert (updated.label, updated.version) == ("NORP", putin.version + 1), updated
    response = update_annotation.sync_detailed(
        putin.id, client=client, body=AnnotationUpdate(label="PERSON"), if_match=stale
    )
    problem = expect(response, HTTPStatus.PRECONDITION_FAILED, Problem)
    assert problem.type_ == "urn:annotation-store:problem:precondition-failed", problem
    step(f"a PATCH with a stale If-Match {stale} is a typed 412 Problem: {problem.detail!r}")

    response = delete_document.sync_detailed(document.id, client=client)
    assert response.status_code == HTTPStatus.NO_CONTENT, response.status_code
    step(f"deleted document {document.id}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000")
    print("python SDK scenario: passed")
