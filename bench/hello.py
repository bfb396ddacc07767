"""The yardstick: a hello-world Flask app, served by the same gunicorn settings."""

import flask

app = flask.Flask(__name__)


@app.get("/hello")
def hello() -> flask.Response:
    return flask.jsonify(hello="world")
