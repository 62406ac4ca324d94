#!/usr/bin/env bash
# Builds the hma-lab wheel from the working tree, installs it into a throwaway venv, and runs the
# package's own tests (python/tests) with the pytest plugin and binary from that wheel — never
# from the source tree. The wheel reuses the debug build (`maturin build --profile dev`: cargo
# compiles nothing the Rust tests have not already built). The throwaway venv borrows the client
# libraries (msal, exchangelib, requests, pytest) from $VENV through a .pth file, so nothing is
# downloaded; the wheel is installed with --no-deps --no-index.
#
# Usage: python/run-tests.sh [pytest args...]      Env: VENV (default .venv).
# Artifacts: target/python/wheels/*.whl, target/python/pytest.xml.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
VENV="${VENV:-$ROOT/.venv}"
OUT="$ROOT/target/python"
T="$OUT/venv"
cd "$ROOT"

rm -rf "$OUT/wheels" "$T"
mkdir -p "$OUT"
start=$(date +%s)
(cd python && "$VENV/bin/maturin" build --quiet --profile dev --compression-level 1 --out "$OUT/wheels")
wheel="$(ls "$OUT"/wheels/hma_lab-*.whl)"
built=$(date +%s)

"$VENV/bin/python" -m venv --without-pip "$T"
own_site="$("$T/bin/python" -c 'import sysconfig; print(sysconfig.get_path("purelib"))')"
"$VENV/bin/python" -c 'import sysconfig
for p in dict.fromkeys([sysconfig.get_path("purelib"), sysconfig.get_path("platlib")]): print(p)' \
  >"$own_site/_hma_lab_clients.pth"
"$T/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps --no-index "$wheel"
echo "run-tests.sh: $(basename "$wheel") built in $((built - start)) s, installed into $T"

# The wheel's binary and plugin only: no HMA_LAB_BIN, no source tree on sys.path.
unset HMA_LAB_BIN PYTHONPATH
cd "$OUT"
"$T/bin/python" -m pytest -p no:cacheprovider -v -rs --junitxml="$OUT/pytest.xml" \
  "$ROOT/python/tests" "$@"
