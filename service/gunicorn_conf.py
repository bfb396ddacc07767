"""gunicorn settings, from the environment: ``gunicorn -c python:service.gunicorn_conf``."""

from __future__ import annotations

import os
import shutil
import tempfile
from typing import Any

from service.config import ConfigError, Settings, is_loopback

# Every variable is validated once, here: a bad value stops the start with a message
# naming the variable.
try:
    settings = Settings.from_env(os.environ)
except ConfigError as error:
    raise SystemExit(f"configuration error: {error}") from None

serves_everyone = settings.auth_mode == "none" and not is_loopback(settings.host)
if serves_everyone and not settings.allow_unauthenticated:
    raise SystemExit(
        f"configuration error: AUTH_MODE=none would serve everyone on {settings.host}. "
        "Use AUTH_MODE=apikey (create a key with `flask keys create`), bind HOST=127.0.0.1, "
        "or set ALLOW_UNAUTHENTICATED=true if something in front authenticates."
    )

bind = (
    f"[{settings.host}]:{settings.port}"
    if ":" in settings.host
    else f"{settings.host}:{settings.port}"
)
workers = settings.workers
threads = settings.threads
worker_class = "gthread" if threads > 1 else "sync"
timeout = settings.timeout
graceful_timeout = settings.timeout
keepalive = 5
# Build the app once in the master: a configuration error stops the start at once, and
# the workers share the loaded code.
preload_app = True
# The app writes one JSON line per request itself (service.logs), and gunicorn's logger
# leaves its own out without spending time on it.
accesslog = None
logger_class = "service.logs.GunicornLogger"
errorlog = "-"
loglevel = settings.log_level.lower()
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "service.logs.JsonFormatter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "stream": "ext://sys.stderr",
        }
    },
    "root": {"level": settings.log_level, "handlers": ["console"]},
    "loggers": {
        "gunicorn.error": {
            "level": settings.log_level,
            "handlers": ["console"],
            "propagate": False,
        },
    },
}
# No gunicornc control socket: it lives under $HOME, which the image does not have.
control_socket_disable = True
# The app decides whom to believe (TRUSTED_PROXIES), not gunicorn.
forwarded_allow_ips = "*"

# Prometheus multiprocess mode: every worker writes its samples under this directory,
# and /metrics adds them up. Emptied at each start.
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="annotation-store-metrics-")
_metrics_dir = os.environ["PROMETHEUS_MULTIPROC_DIR"]
shutil.rmtree(_metrics_dir, ignore_errors=True)
os.makedirs(_metrics_dir, exist_ok=True)


def on_starting(server: Any) -> None:
    from service import startup

    startup.prepare_database(settings, log=server.log.info)


def when_ready(server: Any) -> None:
    if settings.auth_mode == "none":
        server.log.warning(
            "AUTH_MODE=none: no authentication, every request acts as 'anonymous' with every "
            "right. To require keys: create one with `.venv/bin/flask --app service.app keys "
            "create --name me --role admin`, then start with AUTH_MODE=apikey and send "
            "'Authorization: Bearer <key>'."
        )


def _serves_the_service(worker: Any) -> bool:
    """The service's app, not the benchmark's hello-world yardstick."""
    return worker.app.callable.extensions.get("db") is not None


def post_fork(_server: Any, worker: Any) -> None:
    if _serves_the_service(worker):
        from service import metrics

        # Connections opened in the master must not be shared with the forked workers.
        worker.app.callable.extensions["db"].engine.dispose(close=False)
        metrics.start_flushing()


def worker_exit(_server: Any, worker: Any) -> None:
    if _serves_the_service(worker):
        from service import metrics

        metrics.flush()  # what the worker noted since its last flush


def child_exit(_server: Any, worker: Any) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
