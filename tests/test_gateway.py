"""Behind a real nginx that serves the API under /annotations/: Location, Link, the
spec's server URL and /docs all carry the public prefix.

Needs Debian's nginx (``apt-get install nginx-light``); CI installs it and sets
REQUIRE_NGINX=1 so that the test cannot be skipped there."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from tests.live import ROOT, free_port
from tests.test_gunicorn import get

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)

NGINX_CONF = """
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    server {{
        listen 127.0.0.1:{port};
        location /annotations/ {{
            proxy_pass http://127.0.0.1:{app_port}/;
            proxy_set_header X-Forwarded-Prefix /annotations;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Forwarded-Host $host:$server_port;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        }}
    }}
}}
"""


def wait_for(url):
    for _ in range(200):
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except urllib.error.HTTPError:
            return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.1)
    raise AssertionError(f"{url} did not answer")


@pytest.fixture(scope="module")
def gateway(tmp_path_factory):
    if NGINX is None:
        if os.environ.get("REQUIRE_NGINX"):
            pytest.fail("nginx is required here (REQUIRE_NGINX=1) but not installed")
        pytest.skip("nginx is not installed (apt-get install nginx-light)")
    tmp = tmp_path_factory.mktemp("gateway")
    app_port, port = free_port(), free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp / 'db.sqlite'}",
        "PORT": str(app_port),
        "HOST": "127.0.0.1",
        "AUTH_MODE": "none",
        "WEB_CONCURRENCY": "1",
        "AUTO_MIGRATE": "true",
        "TRUSTED_PROXIES": "127.0.0.1/32",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp / "metrics"),
    }
    app = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            "python:service.gunicorn_conf",
            "service.wsgi:app",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    (tmp / "nginx.conf").write_text(NGINX_CONF.format(tmp=tmp, port=port, app_port=app_port))
    nginx = subprocess.Popen(
        [NGINX, "-p", str(tmp), "-c", str(tmp / "nginx.conf"), "-g", "daemon off;"]
    )
    base = f"http://127.0.0.1:{port}/annotations"
    try:
        wait_for(f"http://127.0.0.1:{app_port}/health/ready")
        wait_for(f"{base}/health/live")
        yield base, f"http://127.0.0.1:{port}"
    finally:
        nginx.terminate()
        app.terminate()
        nginx.wait(timeout=10)
        app.wait(timeout=30)


def post(url, body):
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        return response.status, dict(response.headers), json.loads(response.read())


def test_location_carries_the_public_prefix(gateway):
    base, public = gateway
    status, headers, body = post(f"{base}/v1/documents", {"text": "Behind the gateway."})
    assert status == 201
    assert headers["Location"] == f"{public}/annotations/v1/documents/{body['id']}"
    assert get(headers["Location"])[0] == 200


def test_link_header_carries_the_public_prefix(gateway):
    base, public = gateway
    for text in ("one", "two"):
        post(f"{base}/v1/documents", {"text": text})
    _, headers, _ = get(f"{base}/v1/documents?limit=1")
    assert headers["Link"].startswith(f"<{public}/annotations/v1/documents?")
    next_url = headers["Link"][1 : headers["Link"].index(">")]
    assert get(next_url)[0] == 200


def test_spec_and_docs_carry_the_public_prefix(gateway):
    base, _ = gateway
    _, _, spec = get(f"{base}/openapi.json")
    assert json.loads(spec)["servers"] == [{"url": "/annotations"}]
    _, _, page = get(f"{base}/docs")
    assert b'url: "/annotations/openapi.json"' in page
    assert get(f"{base}/docs/assets/swagger-ui-bundle.js")[0] == 200
