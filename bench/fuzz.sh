#!/usr/bin/env bash
# bench/fuzz.sh: run every fuzz target of the module for a while each.
#
#   bash bench/fuzz.sh            # 2s per target (CI: .ci/run)
#   bash bench/fuzz.sh 10m        # a long run: 10 minutes per target
#   bash bench/fuzz.sh 5000x      # a fixed number of executions per target
#   FUZZ_MATCH=FuzzRead bash bench/fuzz.sh 5m   # only targets matching
#
# Targets are found, not listed: the packages whose test files declare a
# `func FuzzX(f *testing.F)`, then each package's test binary's own
# -test.list '^Fuzz' (what `go test -list` asks), so a target added,
# renamed or removed anywhere is run (or not) without editing this
# script. Each package's instrumented test binary (`go test -c -fuzz .`)
# is built once and runs its targets back to back, as `go test -fuzz`
# would run each (same flags, same directory, same corpus cache).
#
# Each target runs niced, with one worker (-parallel 1) and minimisation
# bounded (-fuzzminimizetime, default 100x: 100 executions, not the 60 s
# default, which let one large input eat a whole run). One line per
# target: its name, package, executions, new interesting inputs (and the
# corpus total) and wall time.
#
# New corpus entries go to the Go build cache ($(go env GOCACHE)/fuzz),
# never into the repository. The first failure stops the script with a
# non-zero exit: Go writes the failing input to the package's
# testdata/fuzz/<Target>/ (wanted: it becomes a regression seed once
# committed with the fix), and the script prints its path and how to
# re-run it.
#
# Environment: FUZZ_MATCH (an extended regexp on target names, default
# all), FUZZ_MINIMIZE (the -fuzzminimizetime, default 100x), FUZZ_NICE
# (the nice level, default 10), FUZZ_KEEP_GOING=1 (run every target even
# after a failure, then fail: for long runs).
set -euo pipefail

time_per_target=${1:-2s}
match=${FUZZ_MATCH:-.}
minimize=${FUZZ_MINIMIZE:-100x}
nice_level=${FUZZ_NICE:-10}

cd "$(dirname "$0")/.."

# The test binary's -test.timeout (go test's default 10m) would kill a
# long run: allow the fuzz time plus ten minutes for the baseline corpus.
timeout_for() {
  local d=$1 n
  case $d in
    *x) echo 30m ;;
    *ms) echo 10m ;;
    *s) n=${d%s}; echo $(( ${n%.*} + 600 ))s ;;
    *m) n=${d%m}; echo $(( ${n%.*} + 10 ))m ;;
    *h) n=${d%h}; echo $(( ${n%.*} * 60 + 10 ))m ;;
    *) echo 0 ;;
  esac
}
timeout=$(timeout_for "$time_per_target")

# Packages with fuzz targets: a grep of the test files (cheap); each one's
# instrumented test binary, built once, then lists its targets itself
# (-test.list: authoritative, build tags and all) and runs them one after
# another in the package's directory, as go test would, with go test's own
# corpus cache. Building once per package rather than once per target
# saves a link per target; it is most of a short run's cost.
mapfile -t pkgs < <(grep -rlE --include='*_test.go' '^func Fuzz[A-Za-z0-9_]*\(f \*testing\.F\)' . |
  grep -v '/testdata/' | xargs -r -n1 dirname | sort -u)
if [ ${#pkgs[@]} -eq 0 ]; then
  echo "fuzz.sh: no fuzz targets found" >&2
  exit 1
fi
cache="$(go env GOCACHE)/fuzz"
bindir=$(mktemp -d "${TMPDIR:-/tmp}/imgsize-fuzz-XXXXXX")
trap 'rm -rf "$bindir"' EXIT

start_all=$SECONDS
targets=0
total_execs=0
failed=()
printf '%-24s %-14s %12s %16s %7s\n' target package execs "new (corpus)" time
for pkg in "${pkgs[@]}"; do
  read -r importpath dir < <(go list -f '{{.ImportPath}} {{.Dir}}' "$pkg")
  bin="$bindir/$(basename "$dir").test"
  if ! nice -n "$nice_level" go test -c -fuzz . -o "$bin" "$pkg" >"$bindir/build.log" 2>&1; then
    echo "FAIL: building $pkg's fuzz targets:"
    cat "$bindir/build.log"
    exit 1
  fi
  mapfile -t fuzzers < <(cd "$dir" && "$bin" -test.list '^Fuzz' | grep -E '^Fuzz' | grep -E "$match" || true)
  for target in "${fuzzers[@]}"; do
    [ -n "$target" ] || continue
    out="$bindir/$target.log"
    start=$SECONDS
    rc=0
    (cd "$dir" && nice -n "$nice_level" "$bin" -test.run '^$' -test.fuzz "^${target}\$" \
      -test.fuzztime "$time_per_target" -test.fuzzminimizetime "$minimize" -test.parallel 1 \
      -test.timeout "$timeout" -test.fuzzcachedir "$cache/$importpath") >"$out" 2>&1 || rc=$?
    elapsed=$(( SECONDS - start ))
    last=$(grep -E '^fuzz: elapsed: .*execs: ' "$out" | tail -n 1 || true)
    execs=$(sed -nE 's/.*execs: ([0-9]+).*/\1/p' <<<"$last")
    new=$(sed -nE 's/.*new interesting: ([0-9]+).*/\1/p' <<<"$last")
    corpus=$(sed -nE 's/.*\(total: ([0-9]+)\).*/\1/p' <<<"$last")
    if [ -z "$last" ]; then
      # The run ended while replaying the corpus: it still checked every
      # seed and cached input, but explored nothing new.
      execs=0 new=0 corpus="baseline only"
    fi
    printf '%-24s %-14s %12s %16s %6ss\n' "$target" "${pkg#./}" "$execs" "$new ($corpus)" "$elapsed"
    targets=$(( targets + 1 ))
    total_execs=$(( total_execs + execs ))
    # Go's fuzzing engine can fail a run as it stops, with "context
    # deadline exceeded", when the worker is busy as -fuzztime ends (seen
    # on loaded 2-core machines, with .ci/run's debootstrap beside it):
    # the target ran its corpus and fuzzed until the deadline, and a real
    # failure would have written its input, panicked or failed a check.
    # Said, not counted as a failure; running it again (as the script
    # once did, up to three times) only ended the same way, later.
    if [ "$rc" -ne 0 ] && grep -q 'context deadline exceeded' "$out" && ! grep -q 'Failing input written' "$out" &&
      ! grep -qE '^\s*(panic:|--- FAIL: .*/)' "$out" && ! grep -qE '_test\.go:[0-9]+:' "$out"; then
      echo "($target: the fuzzing engine failed as it stopped, with no failing input: not counted as a failure)"
      rc=0
    fi
    if [ "$rc" -ne 0 ]; then
      echo
      echo "FAIL: $target in $pkg (exit $rc); its output:"
      cat "$out"
      input=$(sed -nE 's/.*Failing input written to (testdata\/fuzz\/[^ ]+).*/\1/p' "$out" | head -n 1)
      if [ -n "$input" ]; then
        echo
        echo "failing input: ${pkg#./}/$input"
        echo "re-run it:     go test -run '${target}/${input##*/}' $pkg"
      fi
      # The log outlives the script's temporary directory, outside the
      # repository, for a failure that left no input (a killed worker).
      cp "$out" "${TMPDIR:-/tmp}/imgsize-fuzz-$target.log"
      echo "full log:      ${TMPDIR:-/tmp}/imgsize-fuzz-$target.log"
      failed+=("$target")
      [ -n "${FUZZ_KEEP_GOING:-}" ] || exit 1
      echo
    fi
  done
done
if [ "$targets" -eq 0 ]; then
  echo "fuzz.sh: no fuzz target matches $match" >&2
  exit 1
fi
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz.sh: $targets targets, ${#failed[@]} failed: ${failed[*]}"
  exit 1
fi
echo "fuzz.sh: $targets targets, $total_execs execs, ${time_per_target} each, no failure, $(( SECONDS - start_all ))s in all"
