"""The label schema: which annotation types and labels exist, and which link types
may join which annotations. Stored in versions; the highest is in force."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from service.errors import Conflict, InvalidSchema, PreconditionFailed
from service.formats import native
from service.models import Annotation, LabelSchema, Link
from service.services import history
from service.services.checks import refuse_unstorable

# How many offending rows a 409 lists; the totals are always complete.
CONFLICT_LISTING_LIMIT = 1000


@dataclass(frozen=True)
class EndRule:
    types: frozenset[str]
    labels: frozenset[str] | None  # None: any label of those types

    def refusal(self, annotation_type: str, label: str) -> str | None:
        """Why an annotation cannot stand at this end, or None if it can."""
        if annotation_type not in self.types:
            return f"must be of type {_one_of(self.types)}, not {annotation_type!r}"
        if self.labels is not None and label not in self.labels:
            return f"must have label {_one_of(self.labels)}, not {label!r}"
        return None


@dataclass(frozen=True)
class LinkRule:
    source: EndRule
    target: EndRule
    symmetric: bool


@dataclass(frozen=True)
class Rules:
    """The schema in force, shaped for checking."""

    version: int
    labels: Mapping[str, frozenset[str]]
    link_types: Mapping[str, LinkRule]

    def label_refusal(self, annotation_type: str, label: str) -> dict[str, list[str]] | None:
        if annotation_type not in self.labels:
            return {
                "type": [
                    f"unknown annotation type {annotation_type!r}; "
                    f"the schema has {_one_of(self.labels)}"
                ]
            }
        if label not in self.labels[annotation_type]:
            return {
                "label": [
                    f"{label!r} is not a label of type {annotation_type!r}; "
                    f"use {_one_of(self.labels[annotation_type])}"
                ]
            }
        return None


def _one_of(values: Iterable[str]) -> str:
    return ", ".join(repr(value) for value in sorted(values))


def current(session: Session) -> LabelSchema:
    schema = session.scalars(
        select(LabelSchema).order_by(LabelSchema.version.desc()).limit(1)
    ).first()
    if schema is None:
        raise RuntimeError("the database holds no label schema; run the migrations")
    return schema


def current_version(session: Session) -> int:
    """The version of the schema in force, without reading the schema."""
    version = session.scalar(
        select(LabelSchema.version).order_by(LabelSchema.version.desc()).limit(1)
    )
    if version is None:
        raise RuntimeError("the database holds no label schema; run the migrations")
    return version


def rules_of(schema: LabelSchema) -> Rules:
    return _rules(schema.version, schema.annotation_types, schema.link_types)


# The advisory lock that keeps a schema change and the writes checked by the schema
# apart (PostgreSQL; SQLite has one writer at a time): writers share it, a change of
# the schema takes it alone. One bigint key: "schema" in ASCII.
SCHEMA_LOCK = 0x736368656D61


def _lock_schema(session: Session, *, alone: bool) -> None:
    if session.get_bind().dialect.name == "postgresql":
        function = "pg_advisory_xact_lock" if alone else "pg_advisory_xact_lock_shared"
        session.execute(text(f"SELECT {function}(:key)"), {"key": SCHEMA_LOCK})


def current_rules(session: Session) -> Rules:
    """The rules a write is checked by, in force until its transaction ends: a change
    of the schema waits for the writes that read it, and they for the change."""
    _lock_schema(session, alone=False)
    return rules_of(current(session))


def _rules(
    version: int, annotation_types: Mapping[str, Any], link_types: Mapping[str, Any]
) -> Rules:
    def end(spec: Mapping[str, Any]) -> EndRule:
        labels = spec.get("labels")
        return EndRule(frozenset(spec["types"]), None if labels is None else frozenset(labels))

    return Rules(
        version=version,
        labels={name: frozenset(spec["labels"]) for name, spec in annotation_types.items()},
        link_types={
            name: LinkRule(end(spec["source"]), end(spec["target"]), bool(spec.get("symmetric")))
            for name, spec in link_types.items()
        },
    )


def current_for_change(session: Session) -> LabelSchema:
    """The schema in force, with the lock a change of it holds to its commit: what an
    If-Match is compared with, so that of two changes from one version one gets 412."""
    _lock_schema(session, alone=True)
    return current(session)


def replace(
    session: Session,
    annotation_types: Mapping[str, Any],
    link_types: Mapping[str, Any],
    *,
    actor: str,
    expected_version: int | None = None,
) -> LabelSchema:
    """Put a new schema in force, unless stored annotations or links would break it."""
    in_force = current_for_change(session)
    if expected_version is not None and expected_version != in_force.version:
        raise PreconditionFailed(
            f"the schema is at version {in_force.version}, not {expected_version}",
            current_version=in_force.version,
        )
    refuse_unstorable(dict(annotation_types), "annotation_types")
    refuse_unstorable(dict(link_types), "link_types")
    new_rules = _rules(in_force.version + 1, annotation_types, link_types)
    _check_coherent(annotation_types, link_types)
    conflicts = _stored_conflicts(session, new_rules)
    if conflicts:
        raise Conflict(
            "the new schema would make stored annotations or links invalid; "
            "change or delete them first",
            conflicts=conflicts,
        )
    schema = LabelSchema(
        version=new_rules.version,
        annotation_types=_normalised_types(annotation_types),
        link_types=_normalised_links(link_types),
        created_by=actor,
    )
    try:
        with session.begin_nested():
            session.add(schema)
    except IntegrityError:
        raise PreconditionFailed(
            "the schema was changed by another request meanwhile; read it again",
            current_version=current(session).version,
        ) from None
    history.record(
        session,
        "update",
        "schema",
        by=actor,
        before=native.label_schema(in_force),
        after=native.label_schema(schema),
    )
    return schema


def _normalised_types(annotation_types: Mapping[str, Any]) -> dict[str, Any]:
    return {name: {"labels": list(spec["labels"])} for name, spec in annotation_types.items()}


def _normalised_links(link_types: Mapping[str, Any]) -> dict[str, Any]:
    def end(spec: Mapping[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {"types": list(spec["types"])}
        if spec.get("labels") is not None:
            out["labels"] = list(spec["labels"])
        return out

    return {
        name: {
            "source": end(spec["source"]),
            "target": end(spec["target"]),
            "symmetric": bool(spec.get("symmetric", False)),
        }
        for name, spec in link_types.items()
    }


def _check_coherent(annotation_types: Mapping[str, Any], link_types: Mapping[str, Any]) -> None:
    errors: dict[str, list[str]] = {}
    for name, spec in link_types.items():
        for side in ("source", "target"):
            path = f"link_types.{name}.{side}"
            end = spec[side]
            unknown = [t for t in end["types"] if t not in annotation_types]
            if unknown:
                errors.setdefault(f"{path}.types", []).append(
                    f"unknown annotation types {_one_of(unknown)}"
                )
                continue
            allowed = set().union(*(annotation_types[t]["labels"] for t in end["types"]))
            stray = [label for label in end.get("labels") or () if label not in allowed]
            if stray:
                errors.setdefault(f"{path}.labels", []).append(
                    f"labels {_one_of(stray)} belong to none of {_one_of(end['types'])}"
                )
        if spec.get("symmetric") and _end_key(spec["source"]) != _end_key(spec["target"]):
            errors.setdefault(f"link_types.{name}.symmetric", []).append(
                "a symmetric link type needs the same source and target"
            )
    if errors:
        raise InvalidSchema("the schema is not coherent", errors=errors)


def _end_key(end: Mapping[str, Any]) -> tuple[frozenset[str], frozenset[str] | None]:
    labels = end.get("labels")
    return frozenset(end["types"]), None if labels is None else frozenset(labels)


def _stored_conflicts(session: Session, rules: Rules) -> dict[str, Any] | None:
    """What stored data the rules would refuse, grouped so that the check costs one
    aggregate query per table however large the store is."""
    annotations: list[dict[str, Any]] = []
    annotation_total = 0
    for annotation_type, label, count in session.execute(
        select(Annotation.type, Annotation.label, func.count()).group_by(
            Annotation.type, Annotation.label
        )
    ):
        refusal = rules.label_refusal(annotation_type, label)
        if refusal is None:
            continue
        annotation_total += count
        reason = next(iter(refusal.values()))[0]
        for annotation_id in _first_ids(
            session,
            select(Annotation.id).where(
                Annotation.type == annotation_type, Annotation.label == label
            ),
            len(annotations),
        ):
            annotations.append({"id": str(annotation_id), "reason": reason})

    links: list[dict[str, Any]] = []
    link_total = 0
    source, target = aliased(Annotation), aliased(Annotation)
    shapes = (
        select(Link.type, source.type, source.label, target.type, target.label, func.count())
        .join(source, Link.source_id == source.id)
        .join(target, Link.target_id == target.id)
    )
    for link_type, s_type, s_label, t_type, t_label, count in session.execute(
        shapes.group_by(Link.type, source.type, source.label, target.type, target.label)
    ):
        link_reason = _link_refusal(rules, link_type, (s_type, s_label), (t_type, t_label))
        if link_reason is None:
            continue
        link_total += count
        matching = (
            select(Link.id)
            .join(source, Link.source_id == source.id)
            .join(target, Link.target_id == target.id)
            .where(
                Link.type == link_type,
                source.type == s_type,
                source.label == s_label,
                target.type == t_type,
                target.label == t_label,
            )
        )
        for link_id in _first_ids(session, matching, len(links)):
            links.append({"id": str(link_id), "reason": link_reason})

    symmetric = [name for name, rule in rules.link_types.items() if rule.symmetric]
    if symmetric:
        mirror = aliased(Link)
        reversed_pairs = (
            select(Link.id)
            .join(
                mirror,
                and_(
                    mirror.type == Link.type,
                    mirror.source_id == Link.target_id,
                    mirror.target_id == Link.source_id,
                ),
            )
            .where(Link.type.in_(symmetric), Link.source_id < Link.target_id)
        )
        pairs = list(session.scalars(reversed_pairs))
        link_total += len(pairs)
        links.extend(
            {
                "id": str(link_id),
                "reason": "the link type becomes symmetric and this link duplicates its reverse",
            }
            for link_id in pairs[: max(0, CONFLICT_LISTING_LIMIT - len(links))]
        )

    if not annotation_total and not link_total:
        return None
    return {
        "annotations": annotations,
        "annotation_total": annotation_total,
        "links": links,
        "link_total": link_total,
    }


def _first_ids(session: Session, statement: Any, already: int) -> list[Any]:
    room = CONFLICT_LISTING_LIMIT - already
    if room <= 0:
        return []
    return list(session.scalars(statement.order_by(statement.selected_columns[0]).limit(room)))


def _link_refusal(
    rules: Rules, link_type: str, source: tuple[str, str], target: tuple[str, str]
) -> str | None:
    rule = rules.link_types.get(link_type)
    if rule is None:
        return f"unknown link type {link_type!r}"
    for side, end_rule, (annotation_type, label) in (
        ("source", rule.source, source),
        ("target", rule.target, target),
    ):
        refusal = end_rule.refusal(annotation_type, label)
        if refusal:
            return f"the {side} of a {link_type!r} link {refusal}"
    return None


def link_refusal(
    rules: Rules, link_type: str, source: Annotation, target: Annotation
) -> str | None:
    """Why the rules refuse this link between these annotations, or None."""
    return _link_refusal(rules, link_type, (source.type, source.label), (target.type, target.label))
