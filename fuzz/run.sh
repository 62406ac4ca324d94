#!/usr/bin/env bash
# Runs the named cargo-fuzz targets (all when none is named) one after another, FUZZ_SECS
# seconds each (default 600), and prints runs and crashes per target. Called by `make fuzz`.
# Each target starts from fuzz/corpus/<target> (grown by earlier runs, not committed),
# fuzz/seeds/<target> (committed) and the repository files of its format listed below; crashes
# and timeouts land in fuzz/artifacts/<target>/, the libFuzzer log in fuzz/logs/<target>.log.
# Built without sanitizer (the workspace forbids unsafe code) but with debug assertions, so an
# arithmetic overflow is a crash as it is under `cargo test`.
set -u
cd "$(dirname "$0")"
secs="${FUZZ_SECS:-600}"
cargo_nightly=(cargo +nightly)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(jwt xml soap mapi form cmdlet labfile scenario)
flags=(-a -s none -O)

# Longest input (bytes) and extra seed directories of each target.
max_len() {
  case "$1" in
    mapi | form) echo 4096 ;;
    jwt | cmdlet) echo 8192 ;;
    *) echo 16384 ;;
  esac
}
seed_dirs() {
  case "$1" in
    xml) echo ../mock-exchange/tests/golden/surfaces ;;
    labfile) echo ../mock-aad/labs ../mock-exchange/labs ../scenarios/labs ;;
    scenario) echo ../scenarios ../tests/fixtures/scenarios ;;
  esac
}

"${cargo_nightly[@]}" fuzz build "${flags[@]}" || exit 1
mkdir -p logs
status=0
summary=()
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t" "artifacts/$t" "seeds/$t"
  echo "== fuzz $t: ${secs}s, max_len $(max_len "$t")"
  # shellcheck disable=SC2046
  "${cargo_nightly[@]}" fuzz run "${flags[@]}" "$t" "corpus/$t" "seeds/$t" $(seed_dirs "$t") -- \
    -max_total_time="$secs" -max_len="$(max_len "$t")" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="artifacts/$t/" >"logs/$t.log" 2>&1 || status=1
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "logs/$t.log" | tail -1)
  found=$(find "artifacts/$t" -type f | wc -l)
  summary+=("$(printf '%-9s %5ss %12s runs  %s artifacts' "$t" "$secs" "${runs:-?}" "$found")")
  tail -n 3 "logs/$t.log" | sed 's/^/   /'
done
echo "== fuzz summary (crashes and timeouts in fuzz/artifacts/<target>/, logs in fuzz/logs/)"
printf '   %s\n' "${summary[@]}"
exit $status
