#!/usr/bin/env bash
# Start `make run` as a newcomer would, on a free port, and check that the documented
# endpoints answer; stop it again whatever happens.
set -euo pipefail
cd "$(dirname "$0")/.."

PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export PORT
log=$(mktemp)
setsid make run >"$log" 2>&1 &
group=$!
trap 'kill -TERM -- -$group 2>/dev/null || true; wait $group 2>/dev/null || true; rm -f "$log"' EXIT

base="http://127.0.0.1:$PORT"
for _ in $(seq 1 120); do
  curl -fsS "$base/health/ready" >/dev/null 2>&1 && break
  sleep 1
done
curl -fsS "$base/health/ready" >/dev/null || { echo "make run did not become ready:"; cat "$log"; exit 1; }

check() {  # check METHOD PATH EXPECTED_STATUS [BODY]
  local status
  if [ $# -ge 4 ]; then
    status=$(curl -s -o /tmp/smoke-body -w '%{http_code}' -X "$1" "$base$2" -H 'Content-Type: application/json' -d "$4")
  else
    status=$(curl -s -o /tmp/smoke-body -w '%{http_code}' -X "$1" "$base$2")
  fi
  if [ "$status" != "$3" ]; then
    echo "FAIL $1 $2: $status, expected $3"; cat /tmp/smoke-body; echo; exit 1
  fi
  echo "ok   $1 $2 -> $status"
}
id_of() { python3 -c 'import json; print(json.load(open("/tmp/smoke-body"))["id"])'; }

check GET /docs 200
check GET /docs/assets/swagger-ui-bundle.js 200
check GET /openapi.json 200
check GET /v1/schema 200
check GET "/v1/documents?external_id=000_56075bffde052d65.txt" 200
python3 - <<'PY'
import json
(seed,) = json.load(open("/tmp/smoke-body"))["items"]
assert seed["published_at"] == "2024-10-09T00:00:00Z", seed["published_at"]
assert seed["text"].startswith("North Korean soldiers"), seed["text"][:40]
print("ok   the seed article is served, published 2024-10-09")
PY
seed=$(python3 -c 'import json; print(json.load(open("/tmp/smoke-body"))["items"][0]["id"])')
check GET "/v1/documents/$seed/annotations?limit=1000" 200
python3 -c 'import json, sys; n = len(json.load(open("/tmp/smoke-body"))["items"]); print(f"ok   {n} seed annotations served"); sys.exit(n < 100)'
check GET "/v1/documents/$seed/links?limit=1000" 200
check POST /v1/documents 201 '{"text": "Kim Jong-un said: “We are allies.”"}'
doc=$(id_of)
check POST "/v1/documents/$doc/annotations" 201 '{"type": "entity", "label": "PERSON", "start": 0, "end": 11}'
kim=$(id_of)
check POST "/v1/documents/$doc/annotations" 201 '{"type": "quote", "label": "DIRECT", "start": 19, "end": 33, "text": "We are allies."}'
quote=$(id_of)
check POST /v1/links 201 "{\"type\": \"speaker\", \"source_id\": \"$quote\", \"target_id\": \"$kim\"}"
check GET "/v1/documents/$doc/annotations" 200
check GET "/v1/documents/$doc/links" 200
check GET "/v1/links?annotation_id=$kim" 200
check DELETE "/v1/documents/$doc" 204
echo "make run smoke: passed"
