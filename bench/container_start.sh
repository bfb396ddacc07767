#!/usr/bin/env bash
# Image size and the time from `podman run` to a ready /health/ready, for the image that
# .ci/run's container check built (localhost/app:smoke, in CTR_WORK's podman storage).
set -euo pipefail
W=${CTR_WORK:-/tmp/container-smoke}
export CONTAINERS_STORAGE_CONF=$W/storage.conf CONTAINERS_CONF=$W/containers.conf
PORT=${HOST_PORT:-18181}
podman image exists localhost/app:smoke || { echo "no image: run .ci/run (or container-smoke.sh) first"; exit 2; }
size=$(podman image inspect localhost/app:smoke --format '{{.Size}}')
echo "image size: $((size / 1000000)) MB ($size bytes)"
for run in 1 2 3; do
  name=start-$$-$run
  t0=$(date +%s.%N)
  podman run -d --rm --name "$name" -p "127.0.0.1:$PORT:8000" \
    -e AUTH_MODE=none -e ALLOW_UNAUTHENTICATED=true -e AUTO_MIGRATE=true localhost/app:smoke >/dev/null
  until curl -fsS -o /dev/null "http://127.0.0.1:$PORT/health/ready" 2>/dev/null; do sleep 0.05; done
  t1=$(date +%s.%N)
  podman stop -t 10 "$name" >/dev/null
  printf 'run %d: ready %.2f s after podman run (migrating an empty SQLite database)\n' "$run" "$(echo "$t1 - $t0" | bc)"
done
