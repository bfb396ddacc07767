// The SDK scenario in TypeScript: openapi-fetch over the types openapi-typescript
// generates from the committed spec (generated/api.d.ts), the same session as
// contract/python/scenario.py. `tsc --noEmit` proves the calls fit the contract; node runs
// them against a live server: node build/scenario.js BASE_URL
import assert from "node:assert/strict";
import createClient from "openapi-fetch";
import type { components, paths } from "./generated/api.js";

type Annotation = components["schemas"]["Annotation"];
type AnnotationCreate = components["schemas"]["AnnotationCreate"];
type Document = components["schemas"]["Document"];
type Problem = components["schemas"]["Problem"];

const TEXT = "Kim Jong-un said: “We are allies.” Putin agreed in Moscow on Tuesday.";
const client = createClient<paths>({ baseUrl: process.argv[2] ?? "http://127.0.0.1:8000" });

function step(message: string): void {
  console.log(`ok   ${message}`);
}

function expectProblem(status: number, response: Response, error: Problem | undefined): Problem {
  assert.equal(response.status, status, JSON.stringify(error));
  assert.ok(error, `a ${status} without a Problem body`);
  assert.equal(error.status, status);
  return error;
}

async function annotate(document: Document, body: AnnotationCreate): Promise<Annotation> {
  const { data, error, response } = await client.POST("/v1/documents/{document_id}/annotations", {
    params: { path: { document_id: document.id } },
    body,
  });
  assert.equal(response.status, 201, JSON.stringify(error));
  assert.ok(data);
  assert.equal(data.document_id, document.id);
  assert.equal(data.text, TEXT.slice(data.start, data.end));
  return data;
}

async function main(): Promise<void> {
  const created = await client.POST("/v1/documents", {
    body: { text: TEXT, language: "en", title: "contract scenario" },
  });
  assert.equal(created.response.status, 201, JSON.stringify(created.error));
  const document = created.data!;
  assert.equal(document.length, [...TEXT].length);
  assert.equal(created.response.headers.get("ETag"), `"${document.version}"`);
  step(`created document ${document.id} (${document.length} code points)`);

  const kim = await annotate(document, { type: "entity", label: "PERSON", start: 0, end: 11 });
  const quote = await annotate(document, {
    type: "quote",
    label: "DIRECT",
    start: 19,
    end: 33,
    text: "We are allies.",
  });
  step(`annotated it: ${kim.label} "${kim.text}", ${quote.label} quote "${quote.text}"`);

  const linked = await client.POST("/v1/links", {
    body: { type: "speaker", source_id: quote.id, target_id: kim.id },
  });
  assert.equal(linked.response.status, 201, JSON.stringify(linked.error));
  const link = linked.data!;
  assert.deepEqual(
    [link.source_id, link.target_id, link.document_id],
    [quote.id, kim.id, document.id],
  );
  const links = await client.GET("/v1/documents/{document_id}/links", {
    params: { path: { document_id: document.id } },
  });
  assert.deepEqual(
    links.data?.items.map((item) => item.id),
    [link.id],
  );
  step(`linked the quote to its speaker: link ${link.id}, listed by the document`);

  const putin = await annotate(document, { type: "entity", label: "PERSON", start: 35, end: 40 });
  const moscow = await annotate(document, { type: "entity", label: "GPE", start: 51, end: 57 });
  const tuesday = await annotate(document, { type: "entity", label: "DATE", start: 61, end: 68 });
  const pages: Annotation[][] = [];
  let cursor: string | undefined;
  do {
    const { data, error } = await client.GET("/v1/documents/{document_id}/annotations", {
      params: { path: { document_id: document.id }, query: { limit: 2, cursor } },
    });
    assert.ok(data, JSON.stringify(error));
    pages.push(data.items);
    cursor = data.next_cursor ?? undefined;
    assert.ok(pages.length < 10, "next_cursor never ends");
  } while (cursor !== undefined);
  const byPosition = (a: Annotation, b: Annotation) =>
    a.start - b.start || a.end - b.end || (a.id < b.id ? -1 : 1);
  assert.deepEqual(
    pages.flat().map((a) => a.id),
    [kim, quote, putin, moscow, tuesday].sort(byPosition).map((a) => a.id),
  );
  assert.deepEqual(
    pages.map((items) => items.length),
    [2, 2, 1],
  );
  step("paged through 5 annotations with limit=2: pages of 2, 2, 1 by next_cursor");

  const beyond = await client.POST("/v1/documents/{document_id}/annotations", {
    params: { path: { document_id: document.id } },
    body: { type: "entity", label: "PERSON", start: 35, end: TEXT.length + 5 },
  });
  const invalidSpan = expectProblem(422, beyond.response, beyond.error);
  assert.equal(invalidSpan.type, "urn:annotation-store:problem:invalid-span");
  assert.ok(invalidSpan.errors?.end, JSON.stringify(invalidSpan));
  step(`a span beyond the text is a typed 422 Problem: "${invalidSpan.detail}"`);

  const mismatch = await client.POST("/v1/documents/{document_id}/annotations", {
    params: { path: { document_id: document.id } },
    body: { type: "entity", label: "PERSON", start: 35, end: 40, text: "Putain" },
  });
  const wrongText = expectProblem(422, mismatch.response, mismatch.error);
  assert.match(wrongText.detail ?? "", /Putain.*Putin/);
  step(`a text that is not the slice is a typed 422 Problem: "${wrongText.detail}"`);

  const stale = `"${putin.version}"`;
  const patch = (label: string) =>
    client.PATCH("/v1/annotations/{annotation_id}", {
      params: { path: { annotation_id: putin.id }, header: { "If-Match": stale } },
      body: { label },
    });
  const updated = await patch("NORP");
  assert.equal(updated.response.status, 200, JSON.stringify(updated.error));
  assert.equal(updated.data?.label, "NORP");
  assert.equal(updated.data?.version, putin.version + 1);
  const refused = await patch("PERSON");
  const preconditionFailed = expectProblem(412, refused.response, refused.error);
  assert.equal(preconditionFailed.type, "urn:annotation-store:problem:precondition-failed");
  step(`a PATCH with a stale If-Match ${stale} is a typed 412 Problem: "${preconditionFailed.detail}"`);

  const deleted = await client.DELETE("/v1/documents/{document_id}", {
    params: { path: { document_id: document.id } },
  });
  assert.equal(deleted.response.status, 204);
  step(`deleted document ${document.id}`);
}

await main();
console.log("typescript SDK scenario: passed");
