"""brat standoff, https://brat.nlplab.org/standoff.html: a ``.txt`` with the text and
an ``.ann`` beside it.

- ``T`` lines are spans: the label, the offsets (code points; a span that crosses a
  line break is written as fragments around it, as brat requires) and the text.
- ``R`` lines are links (``Arg1`` the source, ``Arg2`` the target); coreference links
  are also summed up as ``*`` equivalence lines (type ``Equiv``), one per chain.
- ``A`` lines carry the annotation type (``Type``), the status and the simple
  attributes (single words) so that brat shows them; ``N`` lines the
  normalizations an annotation lists in ``attributes.normalizations`` (objects with
  ``db``, ``id`` and an optional ``name``).
- ``#`` AnnotatorNotes lines carry, as JSON, whatever must survive exactly: the
  attributes, status and confidence of a span, the attributes of a link, and a label
  that is not one word (brat's are single words: written there with ``_`` for each
  run of white space; the note's label wins while the T line still shows it so). On
  import notes win over the A lines.
  Attributes named ``Type`` or ``Status``, and normalizations that are not single
  words, are left to the note.
- In a zip of several documents each pair is named by its document's external_id
  (or id), its ``/`` kept as folders, with what a file name should not hold made
  ``_``, and ``-2``, ``-3``... where two would have the same name; on import a
  document's external_id is the ``.txt``'s name, or its path in the archive where two
  have the same name, so that such a pair comes back under its own external_id.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from service.formats.exchange import (
    Exported,
    FormatError,
    IncomingAnnotation,
    IncomingDocument,
    IncomingLink,
    extras,
    mapping,
    one_word,
)

COREFERENCE = "coreference"
SIMPLE_VALUE = re.compile(r"\S+")  # one word: fullmatch only
RESERVED_ATTRIBUTES = ("Type", "Status")
MAX_EXTERNAL_ID = 512  # as the API takes them


@dataclass(frozen=True)
class Files:
    name: str  # without extension
    txt: str
    ann: str


def _fragments(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """[start, end) cut around line breaks, which a brat span may not contain."""
    pieces, piece_start = [], start
    for index in range(start, end):
        if text[index] in "\r\n":
            if piece_start < index:
                pieces.append((piece_start, index))
            piece_start = index + 1
    if piece_start < end:
        pieces.append((piece_start, end))
    return pieces or [(start, end)]


def ann(exported: Exported) -> str:
    text = exported.document["text"]
    lines: list[str] = []
    ids = {a["id"]: f"T{n}" for n, a in enumerate(exported.annotations, 1)}
    counters = {"A": 0, "N": 0, "#": 0}

    def numbered(kind: str) -> str:
        counters[kind] += 1
        return f"{kind}{counters[kind]}"

    for a in exported.annotations:
        tid = ids[a["id"]]
        pieces = _fragments(text, a["start"], a["end"])
        offsets = ";".join(f"{s} {e}" for s, e in pieces)
        shown = _shown(text, pieces)
        label = one_word(a["label"])
        lines.append(f"{tid}\t{label} {offsets}\t{shown}")
        lines.append(f"{numbered('A')}\tType {tid} {a['type']}")
        if a["status"] != "accepted":
            lines.append(f"{numbered('A')}\tStatus {tid} {a['status']}")
        for key, value in a["attributes"].items():
            if key in RESERVED_ATTRIBUTES:
                continue
            if key == "normalizations":  # N lines, when a list; the note keeps it anyway
                for norm in value if isinstance(value, list) else []:
                    if _writable_normalization(norm):
                        name = norm.get("name", "")
                        lines.append(
                            f"{numbered('N')}\tReference {tid} {norm['db']}:{norm['id']}\t{name}"
                        )
            elif isinstance(value, str) and SIMPLE_VALUE.fullmatch(value + key):
                lines.append(f"{numbered('A')}\t{key} {tid} {value}")
            elif value is True and SIMPLE_VALUE.fullmatch(key):
                lines.append(f"{numbered('A')}\t{key} {tid}")
        note = extras(a)
        if label != a["label"]:
            note["label"] = a["label"]
        if (pieces[0][0], pieces[-1][1]) != (a["start"], a["end"]):
            # The span begins or ends with a line break, which fragments cannot hold.
            note.update(start=a["start"], end=a["end"])
        if note != {"attributes": {}, "status": "accepted", "confidence": None}:
            lines.append(f"{numbered('#')}\tAnnotatorNotes {tid}\t{_json(note)}")
    for number, item in enumerate(exported.links, 1):
        rid = f"R{number}"
        source, target = ids[item["source_id"]], ids[item["target_id"]]
        lines.append(f"{rid}\t{item['type']} Arg1:{source} Arg2:{target}")  # one word already
        if item["attributes"]:
            shown = _json({"attributes": item["attributes"]})
            lines.append(f"{numbered('#')}\tAnnotatorNotes {rid}\t{shown}")
    for chain in _chains(exported, ids):
        lines.append("*\tEquiv " + " ".join(chain))
    return "\n".join(lines) + ("\n" if lines else "")


def _shown(text: str, pieces: list[tuple[int, int]]) -> str:
    """The text a T line shows: its fragments joined by spaces, on one line."""
    return " ".join(text[s:e] for s, e in pieces).replace("\r", " ").replace("\n", " ")


def _writable_normalization(norm: Any) -> bool:
    """A normalization an N line holds exactly: single-word db (no colon) and id, and a
    name on one line."""
    if not isinstance(norm, dict) or not {"db", "id"} <= set(norm):
        return False
    db, identifier, name = norm["db"], norm["id"], norm.get("name", "")
    return (
        isinstance(db, str)
        and isinstance(identifier, str)
        and isinstance(name, str)
        and bool(SIMPLE_VALUE.fullmatch(db + identifier))
        and ":" not in db
        and not any(c in name for c in "\t\r\n")
        and set(norm) <= {"db", "id", "name"}
    )


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True).replace("\n", "\\n")


def _chains(exported: Exported, ids: dict[str, str]) -> list[list[str]]:
    parent: dict[str, str] = {}

    def root(node: str) -> str:
        while parent.get(node, node) != node:
            node = parent[node]
        return node

    for item in exported.links:
        if item["type"] == COREFERENCE:
            a, b = ids[item["source_id"]], ids[item["target_id"]]
            parent.setdefault(a, a)
            parent.setdefault(b, b)
            parent[root(a)] = root(b)
    groups: dict[str, list[str]] = {}
    for node in parent:
        groups.setdefault(root(node), []).append(node)
    return [sorted(group, key=lambda t: int(t[1:])) for group in groups.values() if len(group) > 1]


def _file_name(external_id: str) -> str:
    """A path for a document's pair: its external_id without ``.txt``, each folder kept
    and each part made a safe file name (what a file name should not hold made ``_``;
    an empty part, ``.`` or ``..`` is ``_``, so no entry leaves the archive's root)."""
    parts = re.sub(r"\.txt$", "", external_id).split("/")
    safe = [re.sub(r"[^\w.-]", "_", part) for part in parts]
    return "/".join("_" if part.strip(".") == "" else part for part in safe)


def files(exported: Exported) -> Files:
    name = exported.document.get("external_id") or exported.document["id"]
    return Files(_file_name(name), exported.document["text"], ann(exported))


class _Sink(io.RawIOBase):
    """A write-only stream whose bytes are taken away as they come: zip output that is
    never held whole in memory."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self.chunks.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        out, self.chunks = b"".join(self.chunks), []
        return out


def zip_stream(exports: Iterator[Exported]) -> Iterator[bytes]:
    """A zip of name.txt and name.ann for each document, produced as it is written."""
    sink = _Sink()
    taken: set[str] = set()
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for exported in exports:
            pair = files(exported)
            name, number = pair.name, 1
            while name.casefold() in taken:  # casefold: for file systems that ignore case
                number += 1
                name = f"{pair.name}-{number}"
            taken.add(name.casefold())
            archive.writestr(f"{name}.txt", pair.txt)
            archive.writestr(f"{name}.ann", pair.ann)
            yield sink.take()
    yield sink.take()


# --- import -----------------------------------------------------------------------------


def parse_zip(data: bytes, max_unpacked: int | None = None) -> list[IncomingDocument]:
    """The documents of a zip of .txt/.ann pairs, which may unpack to ``max_unpacked``
    bytes at most (the sizes its entries declare, which reading them keeps to)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise FormatError("", "not a zip archive") from None
    unpacked = sum(info.file_size for info in archive.infolist())
    if max_unpacked is not None and unpacked > max_unpacked:
        raise FormatError(
            "",
            f"the archive unpacks to {unpacked} bytes, more than a body may hold ({max_unpacked})",
        )
    names = set(archive.namelist())
    texts = sorted(n for n in names if n.endswith(".txt"))
    for name in names:
        if name.endswith(".ann") and f"{name[:-4]}.txt" not in names:
            raise FormatError(name, "has no .txt beside it")
    base_names = [name.rsplit("/", 1)[-1] for name in texts]
    shared = {base for base, count in Counter(base_names).items() if count > 1}
    documents = []
    for name, base_name in zip(texts, base_names, strict=True):
        stem = name[:-4]
        ann_name = f"{stem}.ann"
        text = _utf8(_read(archive, name), name)
        ann_text = _utf8(_read(archive, ann_name), ann_name) if ann_name in names else ""
        document = parse(text, ann_text, ann_name)
        # Folders are how a brat collection is kept: the file's name is its id, unless
        # two folders hold files of one name.
        external_id = name if base_name in shared else base_name
        if len(external_id) > MAX_EXTERNAL_ID:
            raise FormatError(name, f"a name longer than {MAX_EXTERNAL_ID} characters")
        document.fields["external_id"] = external_id
        documents.append(document)
    if not documents:
        raise FormatError("", "the archive holds no .txt files")
    return documents


def _read(archive: zipfile.ZipFile, name: str) -> bytes:
    """An entry's bytes; a damaged, encrypted or oddly compressed one is FormatError."""
    try:
        return archive.read(name)
    except (zipfile.BadZipFile, zlib.error, RuntimeError, NotImplementedError, EOFError) as error:
        raise FormatError(name, f"cannot be read from the archive: {error}") from None


def _utf8(data: bytes, name: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise FormatError(name, "is not UTF-8 text") from None


def parse(text: str, ann_text: str, name: str = "document.ann") -> IncomingDocument:
    """A .txt and its .ann; errors name the .ann file and line."""
    incoming = IncomingDocument(where=name, text=text)
    spans: dict[str, IncomingAnnotation] = {}
    relations: dict[str, IncomingLink] = {}
    notes: list[tuple[str, str, str]] = []
    chains: list[tuple[list[str], str]] = []
    attribute_lines: list[tuple[str | None, str, str, str]] = []
    # Only \n ends a line: span texts may hold other line separators.
    for number, line in enumerate(ann_text.split("\n"), 1):
        where = f"{name}:{number}"
        if not line.strip():
            continue
        fields = line.split("\t")
        kind = fields[0][:1]
        try:
            if kind == "T":
                spans[fields[0]] = _span(fields, text, where)
                incoming.annotations.append(spans[fields[0]])
            elif kind == "R":
                link_type, arg1, arg2 = fields[1].split(" ")
                relations[fields[0]] = IncomingLink(
                    type=link_type,
                    source=arg1.split(":", 1)[1],
                    target=arg2.split(":", 1)[1],
                    where=where,
                )
                incoming.links.append(relations[fields[0]])
            elif kind == "*":
                _, *members = fields[1].split(" ")
                chains.append((members, where))
            elif kind == "A" or kind == "M":
                parts = fields[1].split(" ")
                attribute_lines.append(
                    (parts[0], parts[1], parts[2] if len(parts) > 2 else "", where)
                )
            elif kind == "#":
                notes.append((fields[1].split(" ")[1], fields[2] if len(fields) > 2 else "", where))
            elif kind == "N":
                _, target, reference = fields[1].split(" ")
                db, _, identifier = reference.partition(":")
                norm = {"db": db, "id": identifier}
                if len(fields) > 2 and fields[2]:
                    norm["name"] = fields[2]
                attribute_lines.append((None, target, json.dumps(norm), where))  # None: N line
            else:
                raise FormatError(where, f"unknown annotation kind {fields[0]!r}")
        except (IndexError, ValueError) as error:
            if isinstance(error, FormatError):
                raise
            raise FormatError(where, f"malformed line: {line!r}") from None
    for key, target, value, where in attribute_lines:
        span = spans.get(target)
        if span is None:
            raise FormatError(where, f"{target} is not a T annotation of this file")
        if key == "Type":
            span.type = value
        elif key == "Status":
            span.status = value
        elif key is None:  # an N line's normalization
            listed = span.attributes.setdefault("normalizations", [])
            if isinstance(listed, list):
                listed.append(json.loads(value))
        else:
            span.attributes[key] = value or True
    for target, body, where in notes:
        try:
            note = json.loads(body)
        except ValueError:
            continue  # a note of a person, not ours
        if not isinstance(note, dict):
            continue
        if target in spans:
            span = spans[target]
            label = note.get("label")
            if isinstance(label, str) and one_word(label) == span.label:
                span.label = label  # unless the T line's label was edited since
            span.attributes = mapping(note.get("attributes"), where)
            span.status = note.get("status", span.status)
            span.confidence = note.get("confidence")
            if "start" in note and "end" in note:
                span.start, span.end = note["start"], note["end"]
        elif target in relations:
            relations[target].attributes = mapping(note.get("attributes"), where)
        else:
            raise FormatError(where, f"{target} is not an annotation of this file")
    if not any(link.type == COREFERENCE for link in incoming.links):
        # Chains without their links (a file from brat itself): each member to the first.
        for members, where in chains:
            for member in members[1:]:
                incoming.links.append(IncomingLink(COREFERENCE, member, members[0], where))
    for span in incoming.annotations:
        span.type = span.type or "entity"
    for link in incoming.links:
        for end in (link.source, link.target):
            if end not in spans:
                raise FormatError(link.where, f"{end} is not a T annotation of this file")
    return incoming


def _span(fields: list[str], text: str, where: str) -> IncomingAnnotation:
    label, _, offsets = fields[1].partition(" ")
    pieces = []
    for piece in offsets.split(";"):
        start, end = (int(part) for part in piece.split(" "))
        pieces.append((start, end))
    start, end = min(s for s, _ in pieces), max(e for _, e in pieces)
    expected = _shown(text, pieces)
    shown = "\t".join(fields[2:])  # a span's text may hold tabs
    if len(fields) > 2 and shown.rstrip("\r") != expected.rstrip("\r"):
        raise FormatError(
            where, f"the text {shown!r} is not what the .txt has at {offsets}: {expected!r}"
        )
    return IncomingAnnotation(
        ref=fields[0], type=None, label=label, where=where, start=start, end=end
    )
