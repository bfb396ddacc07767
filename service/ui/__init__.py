"""/ui: a document viewer for people. Server-rendered pages with a little plain
JavaScript and CSS shipped with the service (no CDN, no build step)."""

from __future__ import annotations

import uuid
from typing import Any

import flask
from sqlalchemy import func, select

from service import auth
from service.config import Settings
from service.db import get_session
from service.errors import DomainError
from service.formats import highlight, native
from service.models import Annotation, Link
from service.services import api_keys, documents

bp = flask.Blueprint(
    "ui", __name__, url_prefix="/ui", template_folder="templates", static_folder="static"
)
KEY_COOKIE = "annotation_store_key"
PAGE_SIZE = 25


def _settings() -> Settings:
    return flask.current_app.extensions["settings"]


def _identity() -> auth.Identity | None:
    """Who is looking: the gateway's user, the key kept in this browser session's
    cookie, or anonymous when authentication is off. None: ask for a key."""
    settings = _settings()
    if settings.auth_mode != "apikey":
        try:
            return auth.identify(settings)
        except DomainError:
            return None
    secret = flask.request.cookies.get(KEY_COOKIE)
    key = api_keys.authenticate(get_session(), secret) if secret else None
    return None if key is None else auth.Identity(key.name, key.role)


@bp.context_processor
def _auth_mode() -> dict[str, str]:
    return {"config_auth_mode": _settings().auth_mode}


@bp.before_request
def _require_identity() -> Any:
    if flask.request.endpoint in ("ui.login", "ui.static"):
        return None
    identity = _identity()
    if identity is None:
        if _settings().auth_mode == "apikey":
            return flask.redirect(flask.url_for("ui.login", next=flask.request.full_path))
        flask.abort(401)
    flask.g.identity = identity.name
    return None


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    """Ask for an API key once; it is kept in a cookie for this browser session."""
    error = None
    if flask.request.method == "POST":
        secret = flask.request.form.get("key", "").strip()
        if api_keys.authenticate(get_session(), secret) is not None:
            target = flask.request.args.get("next") or ""
            if not target.startswith("/") or target.startswith("//"):
                target = flask.url_for("ui.index")
            else:
                target = flask.request.script_root + target
            response = flask.redirect(target)
            response.set_cookie(
                KEY_COOKIE,
                secret,
                httponly=True,
                samesite="Strict",
                secure=flask.request.is_secure,
                path=flask.url_for("ui.index"),
            )
            return response
        error = "That key is unknown or revoked."
    return flask.render_template("login.html", error=error), 401 if error else 200


@bp.post("/logout")
def logout() -> Any:
    response = flask.redirect(flask.url_for("ui.login"))
    response.delete_cookie(KEY_COOKIE, path=flask.url_for("ui.index"))
    return response


@bp.get("/")
def index() -> str:
    """The documents, searchable, with their annotation counts by type."""
    session = get_session()
    q = flask.request.args.get("q", "").strip() or None
    page = documents.list_page(
        session,
        documents.Search(q=q),
        limit=PAGE_SIZE,
        cursor=flask.request.args.get("cursor") or None,
    )
    ids = [d.id for d in page.items]
    counts: dict[uuid.UUID, dict[str, int]] = {i: {} for i in ids}
    if ids:
        for document_id, kind, count in session.execute(
            select(Annotation.document_id, Annotation.type, func.count())
            .where(Annotation.document_id.in_(ids), Annotation.anchor != "orphaned")
            .group_by(Annotation.document_id, Annotation.type)
        ):
            counts[document_id][kind] = count
    return flask.render_template(
        "index.html", documents=page.items, counts=counts, q=q or "", next_cursor=page.next_cursor
    )


@bp.get("/documents/<uuid:document_id>")
def document(document_id: uuid.UUID) -> str:
    """The text with every annotation highlighted, and its links beside it."""
    session = get_session()
    found = documents.get(session, document_id)
    spans = [
        native.annotation(a)
        for a in session.scalars(
            select(Annotation)
            .where(Annotation.document_id == document_id, Annotation.anchor != "orphaned")
            .order_by(Annotation.start, Annotation.end, Annotation.id)
        )
    ]
    edges = [
        native.link(edge)
        for edge in session.scalars(
            select(Link).where(Link.document_id == document_id, ~Link.dangling).order_by(Link.id)
        )
    ]
    by_id = {a["id"]: a for a in spans}
    labels = sorted({(a["type"], a["label"]) for a in spans})
    return flask.render_template(
        "document.html",
        document=native.document(found),
        segments=highlight.segments(found.text, spans),
        annotations=by_id,
        links=edges,
        labels=labels,
        types=[t for t in ("entity", "quote", "claim") if any(a["type"] == t for a in spans)],
    )
