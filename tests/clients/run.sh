#!/usr/bin/env bash
# Runs the real-client suite against `hma-lab serve`: for each language a fresh lab is started
# (its one JSON ready line read from stdout), the clients are pointed at it with
# `eval "$(hma-lab env)"` — configuration only — the tests run, and the lab is stopped with
# SIGTERM (it must exit 0). Python: pytest in .venv; Node: node --test. Screenshots of the
# browser test land in target/screenshots/, lab logs in target/clients/.
#
# Usage: tests/clients/run.sh [python|node]...   (default: both)
# Env: HMA_LAB_BIN (default target/debug/hma-lab, built if missing), VENV (default .venv).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
BIN="${HMA_LAB_BIN:-$ROOT/target/debug/hma-lab}"
VENV="${VENV:-$ROOT/.venv}"
CLIENTS="$ROOT/tests/clients"
OUT="$ROOT/target/clients"
mkdir -p "$OUT" "$ROOT/target/screenshots"
suites=("$@")
[ ${#suites[@]} -gt 0 ] || suites=(python node)

if [ -z "${HMA_LAB_BIN:-}" ]; then
  cargo build --quiet -p hma-lab --bin hma-lab
fi
if ! "$BIN" serve --help >/dev/null 2>&1; then
  echo "run.sh: $BIN has no 'serve' subcommand (the front door is not built in)" >&2
  exit 1
fi

STATE="$(mktemp -d "${TMPDIR:-/tmp}/hma-clients.XXXXXX")"
LAB_PID=""
stop_lab() {
  if [ -n "$LAB_PID" ] && kill -0 "$LAB_PID" 2>/dev/null; then
    kill -TERM "$LAB_PID"
    local rc=0
    wait "$LAB_PID" || rc=$?
    LAB_PID=""
    if [ "$rc" -ne 0 ]; then
      echo "run.sh: hma-lab serve exited $rc on SIGTERM (see $OUT/serve-*.log)" >&2
      return 1
    fi
  fi
  LAB_PID=""
}
cleanup() { stop_lab || true; rm -rf "$STATE"; }
trap cleanup EXIT

start_lab() { # $1 = suite name; sets LAB_PID and HMA_READY
  local log="$OUT/serve-$1.log" ready="$OUT/serve-$1.ready"
  : >"$ready"
  "$BIN" serve --state-dir "$STATE" --har "$OUT/$1.har" >"$ready" 2>"$log" &
  LAB_PID=$!
  for _ in $(seq 1 600); do
    if [ -s "$ready" ] && head -n1 "$ready" | grep -q '"event":"ready"'; then
      HMA_READY="$(head -n1 "$ready")"
      export HMA_READY
      return 0
    fi
    if ! kill -0 "$LAB_PID" 2>/dev/null; then break; fi
    sleep 0.1
  done
  echo "run.sh: hma-lab serve did not print its ready line; log:" >&2
  cat "$log" >&2
  exit 1
}

status=0
for suite in "${suites[@]}"; do
  start_lab "$suite"
  echo "run.sh: $suite suite against ${HMA_READY%%,\"admin_token\"*}}"
  (
    # What a user does: trust the lab CA and use its proxy, by environment only.
    eval "$("$BIN" env --state-dir "$STATE")"
    case "$suite" in
      python)
        "$VENV/bin/python" -m pytest -p no:cacheprovider -v -rs \
          --junitxml="$OUT/python.xml" "$CLIENTS/python"
        ;;
      node)
        cd "$CLIENTS"
        node --test --test-concurrency=1 --test-reporter=spec \
          node/msal.test.js node/msal-legacy.test.js node/ews.test.js
        ;;
      *) echo "run.sh: unknown suite $suite" >&2; exit 2 ;;
    esac
  ) || status=1
  stop_lab || status=1
done
exit $status
