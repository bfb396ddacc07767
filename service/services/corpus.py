"""Loading a corpus folder: text files, an optional manifest, optional bundles of
annotations. ``flask seed`` and ``flask import`` both come here, and everything is
written through the same services the API uses, so the same rules hold."""

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from service.formats import bundle as bundle_format
from service.formats.exchange import IncomingDocument
from service.services import documents, imports
from service.services.imports import DocumentReport

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
    incoming = IncomingDocument(where=str(entry.file), text=corpus.text)
    if entry.bundle is not None:
        try:
            incoming = bundle_format.parse(
                json.loads(entry.bundle.read_text(encoding="utf-8")), corpus.text
            )
        except json.JSONDecodeError as error:
            raise CorpusError(entry.bundle, "", f"not valid JSON: {error}") from None
        except bundle_format.BundleError as error:
            raise CorpusError(entry.bundle, error.where, error.reason) from None
        named = incoming.fields.get("external_id")
        if named is not None and named != entry.external_id:
            raise CorpusError(
                entry.bundle, "/document/external_id", f"{named!r} is not {entry.external_id!r}"
            )
    incoming.fields = {
        **incoming.fields,
        "external_id": entry.external_id,
        "published_at": corpus.published_at,
        **entry.fields,
    }
    stored = documents.find_by_external_id(session, entry.external_id)
    if stored is not None and stored.text != corpus.text:
        raise CorpusError(
            entry.file,
            "",
            f"document {stored.id} already has external_id {entry.external_id!r} "
            "with a different text",
        )
    try:
        (report,) = imports.apply(session, [incoming], actor=actor)
    except imports.ImportRefused as refused:
        where, messages = next(iter((refused.errors or {"": [refused.detail]}).items()))
        raise CorpusError(entry.bundle or entry.file, where, messages[0]) from None
    return report
