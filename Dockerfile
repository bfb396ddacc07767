# The service image: gunicorn serving the app, no compilers, not root.
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/venv
COPY pyproject.toml README.md ./
COPY service ./service
RUN /opt/venv/bin/pip install --no-compile .

FROM python:3.11-slim
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    FLASK_APP=service.app \
    HOST=0.0.0.0 \
    PORT=8000 \
    AUTH_MODE=apikey \
    DATABASE_URL=sqlite:////app/var/annotation-store.db
RUN useradd --system --uid 10001 --user-group --home-dir /app --no-create-home app
WORKDIR /app
COPY --from=build /opt/venv /opt/venv
COPY migrations ./migrations
COPY seeds ./seeds
RUN mkdir var && chown app:app var
USER app
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('PORT', '8000') + '/health/ready', timeout=2)"]
CMD ["gunicorn", "--config", "python:service.gunicorn_conf", "service.wsgi:app"]
