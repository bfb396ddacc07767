"""gunicorn settings, from the environment: ``gunicorn -c python:service.gunicorn_conf``."""

from __future__ import annotations

import multiprocessing
import os
from typing import Any

from service.config import ConfigError, Settings

# PORT and the rest are validated once, here, so a bad value stops the start with a
# message naming the variable.
try:
    _settings = Settings.from_env(os.environ)
except ConfigError as error:
    raise SystemExit(f"configuration error: {error}") from None

bind = f"{os.environ.get('HOST', '0.0.0.0')}:{_settings.port}"
workers = int(os.environ.get("WEB_CONCURRENCY", min(2 * multiprocessing.cpu_count() + 1, 8)))
threads = int(os.environ.get("THREADS", "1"))
timeout = int(os.environ.get("TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GRACEFUL_TIMEOUT", "30"))
keepalive = 5
# Build the app once in the master: a configuration error stops the start at once, and
# workers share the loaded code.
preload_app = True
accesslog = "-"
errorlog = "-"
loglevel = _settings.log_level.lower()
forwarded_allow_ips = "*"  # the app decides whom to trust (TRUSTED_PROXIES)


def post_fork(_server: Any, worker: Any) -> None:
    # Connections opened in the master must not be shared with the forked workers.
    app = worker.app.callable
    app.extensions["db"].engine.dispose(close=False)
