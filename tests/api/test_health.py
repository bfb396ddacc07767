from __future__ import annotations


def test_live(client):
    response = client.get("/health/live")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}


def test_ready_when_migrated(client):
    response = client.get("/health/ready")
    assert response.status_code == 200


def test_not_ready_without_migrations_is_503_problem(make_app, tmp_path):
    app = make_app()
    from service.db import Database, make_engine

    Database(make_engine(f"sqlite:///{tmp_path / 'empty.db'}")).init_app(app)
    response = app.test_client().get("/health/ready")
    assert response.status_code == 503
    assert response.content_type == "application/problem+json"
    assert "run the migrations" in response.json["detail"]
