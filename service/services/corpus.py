"""Loading a corpus folder: text files, an optional manifest, optional bundles of
annotations. ``flask seed`` and ``flask import`` both come here, and everything is
written through the same services the API uses, so the same rules hold."""

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.errors import DomainError
from service.formats import bundle as bundle_format
from service.models import Annotation, Document, Link
from service.services import annotations, documents, links

MANIFEST = "manifest.json"
MANIFEST_KEYS = frozenset(
    {"file", "sha256", "external_id", "title", "language", "source_url", "source", "annotations"}
)


class CorpusError(ValueError):
    """A corpus file or bundle that cannot be loaded: which file, which item, why."""

    def __init__(self, path: Path, where: str, reason: str) -> None:
        location = f"{path}: {where}" if where else str(path)
        super().__init__(f"{location}: {reason}")


@dataclass(frozen=True)
class Entry:
    """One corpus file and what the manifest says of it."""

    file: Path
    external_id: str
    fields: dict[str, Any] = field(default_factory=dict)  # title, language, ...
    bundle: Path | None = None


@dataclass
class DocumentReport:
    external_id: str
    document_id: str = ""
    document_created: bool = False
    annotations_created: int = 0
    annotations_matched: int = 0
    links_created: int = 0
    links_matched: int = 0


def entries(folder: Path) -> list[Entry]:
    """The folder's manifest entries, or else every ``*.txt`` in it, each with its
    bundle ``annotations/<stem>.bundle.json`` if there is one."""
    manifest = folder / MANIFEST
    if not manifest.is_file():
        return [
            Entry(path, path.name, bundle=_default_bundle(folder, path))
            for path in sorted(folder.glob("*.txt"))
        ]
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise CorpusError(manifest, "", f"not valid JSON: {error}") from None
    items = data.get("documents") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise CorpusError(manifest, "", 'must be an object with a "documents" array')
    found = []
    for index, item in enumerate(items):
        where = f"/documents/{index}"
        if not isinstance(item, dict) or not isinstance(item.get("file"), str):
            raise CorpusError(manifest, where, 'needs a "file" naming a corpus file')
        unknown = set(item) - MANIFEST_KEYS
        if unknown:
            raise CorpusError(manifest, where, f"unknown members {sorted(unknown)}")
        path = folder / item["file"]
        if not path.is_file():
            raise CorpusError(manifest, where, f"{path} does not exist")
        if "sha256" in item and hashlib.sha256(path.read_bytes()).hexdigest() != item["sha256"]:
            raise CorpusError(
                manifest, where, f"{path} is not the file the manifest names (sha256 differs)"
            )
        bundle = folder / item["annotations"] if item.get("annotations") else None
        if bundle is not None and not bundle.is_file():
            raise CorpusError(manifest, where, f"{bundle} does not exist")
        fields = {name: item[name] for name in ("title", "language", "source_url") if name in item}
        if "source" in item:
            fields["meta"] = {"source": item["source"]}
        found.append(Entry(path, item.get("external_id") or path.name, fields, bundle))
    return found


def _default_bundle(folder: Path, text_file: Path) -> Path | None:
    candidate = folder / "annotations" / f"{text_file.stem}.bundle.json"
    return candidate if candidate.is_file() else None


def import_folder(session: Session, folder: Path, *, actor: str) -> list[DocumentReport]:
    """Load every document of the folder. Documents already stored (by external_id,
    with the same text) are matched, not duplicated, and so are their annotations and
    links: running it twice changes nothing."""
    if not folder.is_dir():
        raise CorpusError(folder, "", "is not a directory")
    return [import_entry(session, entry, actor=actor) for entry in entries(folder)]


def import_entry(session: Session, entry: Entry, *, actor: str) -> DocumentReport:
    try:
        corpus = bundle_format.read_corpus_text(entry.file.read_text(encoding="utf-8"))
    except UnicodeDecodeError as error:
        raise CorpusError(entry.file, "", f"is not UTF-8 text: {error}") from None
    if not corpus.text:
        raise CorpusError(entry.file, "", "holds no text")
    bundle = None
    if entry.bundle is not None:
        try:
            bundle = bundle_format.parse(
                json.loads(entry.bundle.read_text(encoding="utf-8")), corpus.text
            )
        except json.JSONDecodeError as error:
            raise CorpusError(entry.bundle, "", f"not valid JSON: {error}") from None
        except bundle_format.BundleError as error:
            raise CorpusError(entry.bundle, error.where, error.reason) from None
        named = bundle.document.get("external_id")
        if named is not None and named != entry.external_id:
            raise CorpusError(
                entry.bundle, "/document/external_id", f"{named!r} is not {entry.external_id!r}"
            )

    report = DocumentReport(entry.external_id)
    document = documents.find_by_external_id(session, entry.external_id)
    if document is None:
        document = documents.create(
            session,
            {
                "text": corpus.text,
                "external_id": entry.external_id,
                "published_at": corpus.published_at,
                **entry.fields,
            },
            actor=actor,
        )
        report.document_created = True
    elif document.text != corpus.text:
        raise CorpusError(
            entry.file,
            "",
            f"document {document.id} already has external_id {entry.external_id!r} "
            "with a different text",
        )
    report.document_id = str(document.id)
    if bundle is not None:
        assert entry.bundle is not None
        _import_layer(session, document, bundle, entry.bundle, actor, report)
    return report


def _import_layer(
    session: Session,
    document: Document,
    bundle: bundle_format.Bundle,
    path: Path,
    actor: str,
    report: DocumentReport,
) -> None:
    stored = {
        (a.type, a.label, a.start, a.end): a
        for a in session.scalars(select(Annotation).where(Annotation.document_id == document.id))
    }
    ids_by_ref = {}
    for item in bundle.annotations:
        fields = item.fields
        key = (fields["type"], fields["label"], fields["start"], fields["end"])
        annotation = stored.get(key)
        if annotation is None:
            try:
                annotation = annotations.create(session, document, fields, actor=actor)
            except DomainError as error:
                raise CorpusError(path, item.where, error.detail) from None
            stored[key] = annotation
            report.annotations_created += 1
        else:
            report.annotations_matched += 1
        if item.ref is not None:
            ids_by_ref[item.ref] = annotation.id

    for link in bundle.links:
        source, target = ids_by_ref[link.source], ids_by_ref[link.target]
        existing = session.scalars(
            select(Link.id).where(
                Link.type == link.type, Link.source_id == source, Link.target_id == target
            )
        ).first()
        if existing is not None:
            report.links_matched += 1
            continue
        try:
            links.create(
                session,
                {
                    "type": link.type,
                    "source_id": source,
                    "target_id": target,
                    "attributes": link.attributes,
                },
                actor=actor,
            )
        except DomainError as error:
            raise CorpusError(path, link.where, error.detail) from None
        report.links_created += 1
