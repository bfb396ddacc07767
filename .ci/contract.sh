#!/usr/bin/env bash
# The API contract, checked from outside against a live server: the committed spec is valid
# OpenAPI and passes Spectral's OAS rules; clients generated from it (Python by
# openapi-python-client; TypeScript by openapi-typescript with openapi-fetch) play the SDK
# scenario in contract/; Schemathesis runs every operation, stateful sequences included.
# Every step runs even after one fails; the script exits non-zero if any did.
#
# Needs `make install` (.venv), python3, Node.js 20 and npm; installs its own tools into
# contract/.venv and contract/typescript/node_modules. CONTRACT_MAX_EXAMPLES and
# CONTRACT_SEED tune Schemathesis; CONTRACT_KEEP=1 keeps the scratch folder (reports, logs).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

SPEC=$ROOT/openapi/openapi.json
TOOLS=$ROOT/contract/.venv
TS=$ROOT/contract/typescript
EXAMPLES=${CONTRACT_MAX_EXAMPLES:-100}
FUZZ_TIMEOUT=${CONTRACT_FUZZ_TIMEOUT:-210}
SEED=${CONTRACT_SEED:-20261127}

work=$(mktemp -d)
server=""
cleanup() {
  if [ -n "$server" ]; then
    kill -TERM -- "-$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
  fi
  if [ "${CONTRACT_KEEP:-}" = 1 ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$work/summary"

failed=()
timings=()
now_ms() { echo $(("${EPOCHREALTIME/./}" / 1000)); }
timed() {  # timed NAME START_MS RC: the step's line in the summary
  local took=$(($(now_ms) - $2))
  timings+=("$(printf '%-40s %6d.%01ds  %s' "$1" $((took / 1000)) $((took % 1000 / 100)) \
    "$([ "$3" = 0 ] && echo ok || echo FAILED)")")
  if [ "$3" != 0 ]; then failed+=("$1"); fi
}
run() {  # run NAME FUNCTION: a timed step; a failure is recorded and the next step runs
  local start rc
  printf '\n== %s\n' "$1"
  start=$(now_ms)
  set +e
  (set -e; "$2")
  rc=$?
  set -e
  timed "$1" "$start" "$rc"
}
note() { local key=$1; shift; echo "$*" >>"$work/summary/$key"; }  # note KEY TEXT...: for the summary
size_of() {  # size_of DIR GLOB: "N files, N lines, N bytes"
  local files lines bytes
  files=$(find "$1" -type f -name "$2" | wc -l)
  lines=$(find "$1" -type f -name "$2" -exec cat {} + | wc -l)
  bytes=$(find "$1" -type f -name "$2" -exec cat {} + | wc -c)
  echo "$files files, $lines lines, $bytes bytes"
}

install_tools() {
  local stamp
  stamp="$TOOLS/.installed-$(sha256sum contract/requirements.txt | cut -c1-16)"
  if [ ! -f "$stamp" ]; then
    rm -rf "$TOOLS"
    python3 -m venv "$TOOLS"
    "$TOOLS/bin/pip" install --disable-pip-version-check --quiet -r contract/requirements.txt \
      >"$work/pip.log" 2>&1 || { cat "$work/pip.log"; return 1; }
    touch "$stamp"
  fi
  (cd "$TS" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
  echo "node $(node --version); $("$TOOLS/bin/schemathesis" --version);" \
    "openapi-python-client $("$TOOLS/bin/pip" show openapi-python-client | sed -n 's/^Version: //p')"
  [ "$(node -p 'process.versions.node.split(".")[0]')" -ge 20 ] || { echo "needs Node.js 20"; return 1; }
}

validate_spec() {
  "$TOOLS/bin/openapi-spec-validator" --validation-errors all "$SPEC"
}

lint_spec() {
  local rc=0
  "$TS/node_modules/.bin/spectral" lint --ruleset contract/.spectral.yaml --fail-severity error \
    -f stylish -f json --output.json "$work/spectral.json" "$SPEC" || rc=$?
  "$TOOLS/bin/python" - "$work/spectral.json" >"$work/summary/spectral" <<'PY'
import collections, json, sys
results = json.load(open(sys.argv[1]))
names = ["error", "warning", "info", "hint"]
count = collections.Counter(names[r["severity"]] for r in results)
rules = collections.Counter((names[r["severity"]], r["code"]) for r in results)
print(f"spectral: {count['error']} errors, {count['warning']} warnings, {count['info']} infos")
for (severity, rule), n in sorted(rules.items()):
    print(f"  {severity:8} {rule}: {n}")
PY
  cat "$work/summary/spectral"
  return "$rc"
}

start_server() {  # in the main shell: the trap stops it
  local db=$work/store.db port
  local -x FLASK_APP=service.app DATABASE_URL=sqlite:///$db
  .venv/bin/flask migrate >"$work/migrate.log" 2>&1 || { cat "$work/migrate.log"; return 1; }
  .venv/bin/flask seed >>"$work/migrate.log" 2>&1 || { cat "$work/migrate.log"; return 1; }
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  HOST=127.0.0.1 PORT=$port AUTH_MODE=none WEB_CONCURRENCY=2 THREADS=4 LOG_LEVEL=WARNING \
    PROMETHEUS_MULTIPROC_DIR=$work/metrics \
    setsid .venv/bin/gunicorn --config python:service.gunicorn_conf service.wsgi:app \
    >"$work/server.log" 2>&1 &
  server=$!
  BASE=http://127.0.0.1:$port
  for _ in $(seq 1 300); do
    curl -fsS "$BASE/health/ready" >/dev/null 2>&1 && break
    kill -0 "$server" 2>/dev/null || break
    sleep 0.2
  done
  curl -fsS "$BASE/health/ready" >/dev/null || { cat "$work/server.log"; return 1; }
  echo "serving $BASE (AUTH_MODE=none, migrated and seeded $db)"
}

python_sdk() {
  local out=$work/python-client
  PATH="$TOOLS/bin:$PATH" "$TOOLS/bin/openapi-python-client" generate --path "$SPEC" --meta none \
    --config contract/python/client.yaml --output-path "$out/annotation_store_client"
  note python-client "python client (openapi-python-client): $(size_of "$out" '*.py')"
  cat "$work/summary/python-client"
  PYTHONPATH=$out "$TOOLS/bin/python" contract/python/scenario.py "$BASE"
}

typescript_sdk() {
  cd "$TS"
  rm -rf generated
  node_modules/.bin/openapi-typescript "$SPEC" --output generated/api.d.ts
  note typescript-types "typescript types (openapi-typescript): $(size_of generated '*.d.ts')"
  cat "$work/summary/typescript-types"
  node_modules/.bin/tsc --noEmit -p tsconfig.json
  echo "tsc --noEmit: scenario.ts type-checks against the generated types"
  node_modules/.bin/tsc -p tsconfig.json --outDir "$work/ts"
  ln -s "$TS/node_modules" "$work/ts/node_modules"
  echo '{"type": "module"}' >"$work/ts/package.json"
  node "$work/ts/scenario.js" "$BASE"
}

fuzz() {
  local rc=0 report
  cd "$work"  # Schemathesis and Hypothesis keep their files where they run
  # SIGINT: Schemathesis stops as if interrupted, and still reports what it found.
  SCHEMATHESIS_HOOKS=$ROOT/contract/schemathesis_hooks.py \
    timeout -s INT -k 30 "$FUZZ_TIMEOUT" \
    "$TOOLS/bin/schemathesis" --config-file "$ROOT/contract/schemathesis.toml" run "$SPEC" \
    --url "$BASE" --seed "$SEED" --max-examples "$EXAMPLES" --no-color \
    --report junit,json --report-dir "$work/schemathesis" || rc=$?
  if [ "$rc" = 124 ]; then
    note schemathesis "schemathesis: stopped after ${FUZZ_TIMEOUT}s (a stuck server?); totals so far:"
  fi
  report=$(find "$work/schemathesis" -name 'json-*.json' -print -quit 2>/dev/null)
  if [ -n "$report" ]; then
    "$TOOLS/bin/python" - "$report" >>"$work/summary/schemathesis" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
cases, operations = report["test_cases"], report["operations"]
print(
    f"schemathesis: {cases['generated']} cases on {operations['tested']}/{operations['total']} "
    f"operations, {cases['unique_failures']} unique failures, {len(report['errors'])} errors "
    f"(seed {report['seed']}, {report['running_time']:.0f}s)"
)
for phase, result in report["phases"].items():
    print(f"  phase {phase}: {result['status']}")
for failure in report["failures"]:
    print(f"  {failure['code']} {failure['title']}: {failure['count']}")
    for operation in failure["operations"]:
        print(f"      {operation}")
for error in report["errors"]:
    print(f"  error {error['title']}: {error['count']}")
for warning, operations in report["warnings"].items():
    if operations:
        print(f"  warning {warning}: {', '.join(map(str, operations))}")
PY
  fi
  if grep -q '"level": "ERROR"' "$work/server.log"; then
    echo "the server logged errors:"
    "$TOOLS/bin/python" - "$work/server.log" <<'PY'
import collections, json, sys
causes = collections.Counter()
for line in open(sys.argv[1]):
    try:
        entry = json.loads(line)
    except ValueError:
        continue
    if entry.get("level") == "ERROR":
        last = (entry.get("exception") or "").strip().splitlines()[-1:] or [""]
        causes[(entry["message"], last[0])] += 1
for (message, cause), count in causes.items():
    print(f"- {count}x {message}\n    {cause}")
PY
    note schemathesis "  the server logged $(grep -c '"level": "ERROR"' "$work/server.log") errors"
  fi
  return "$rc"
}

run "contract tools (pip, npm ci)" install_tools
run "a. openapi-spec-validator" validate_spec
run "b. spectral (spectral:oas)" lint_spec
printf '\n== c. live server\n'
start=$(now_ms)
start_server  # nothing after it can run without it: a failure here ends the script
timed "c. live server (migrate, seed, start)" "$start" 0
run "d. python SDK (openapi-python-client)" python_sdk
run "e. typescript SDK (openapi-typescript)" typescript_sdk
run "f. schemathesis (all phases)" fuzz

operations=$(python3 -c '
import json, sys
spec = json.load(open(sys.argv[1]))
methods = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
print(sum(1 for item in spec["paths"].values() for method in item if method in methods))' "$SPEC")
printf '\n== summary\n'
echo "spec: $operations operations in openapi/openapi.json"
cat "$work"/summary/{spectral,python-client,typescript-types,schemathesis} 2>/dev/null || true
printf '%s\n' "${timings[@]}"
if [ ${#failed[@]} -gt 0 ]; then
  echo "contract: FAILED (${failed[*]})"
  exit 1
fi
echo "contract: passed"
