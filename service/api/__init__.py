"""HTTP only: one flask-smorest blueprint per resource. Views parse, call one service,
commit, and present."""

from flask_smorest import Api

from service.api import (
    annotations,
    api_keys,
    changes,
    documents,
    exchange,
    health,
    label_schema,
    links,
)


def register(api: Api) -> None:
    modules = (documents, annotations, links, exchange, label_schema, changes, api_keys, health)
    for module in modules:
        api.register_blueprint(module.blp)
