"""HTTP only: one flask-smorest blueprint per resource. Views parse, call one service,
commit, and present."""

from flask_smorest import Api

from service.api import (
    annotations,
    api_keys,
    changes,
    documents,
    health,
    label_schema,
    links,
)


def register(api: Api) -> None:
    for module in (documents, annotations, links, label_schema, changes, api_keys, health):
        api.register_blueprint(module.blp)
