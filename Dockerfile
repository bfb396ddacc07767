# The service image: gunicorn serving the app as a non-root user, no compilers.
# Build:   docker build -t annotation-store .
# Migrate: docker run --rm -e DATABASE_URL=... annotation-store annotation-store migrate
# Serve:   docker run -p 8000:8000 -e DATABASE_URL=... annotation-store

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/venv
COPY pyproject.toml README.md ./
COPY service ./service
RUN /opt/venv/bin/pip install --no-compile . \
 && /opt/venv/bin/pip uninstall --yes pip setuptools \
 && find /opt/venv -name '__pycache__' -prune -exec rm -rf {} +

FROM python:3.11-slim
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    FLASK_APP=service.app \
    HOST=0.0.0.0 \
    PORT=8000 \
    AUTH_MODE=apikey \
    DATABASE_URL=sqlite:////app/var/annotation-store.db
RUN groupadd --system --gid 10001 app \
 && useradd --system --uid 10001 --gid 10001 --home-dir /app --no-create-home app
WORKDIR /app
COPY --from=build /opt/venv /opt/venv
COPY migrations ./migrations
COPY seeds ./seeds
RUN mkdir var && chown 10001:10001 var
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('PORT', '8000') + '/health/ready', timeout=2)"]
# Graceful shutdown: gunicorn finishes in-flight requests on SIGTERM (TIMEOUT seconds).
STOPSIGNAL SIGTERM
CMD ["gunicorn", "--config", "python:service.gunicorn_conf", "service.wsgi:app"]
