#!/usr/bin/env bash
# The GitHub Action's check step: runs imgsize check with the action's
# inputs (INPUT_* variables, mapped in action.yml), keeps the JSON report,
# prints the summary in the log, and posts the pull request comment when
# asked. It exits with check's code after the comment, so a failing gate
# still comments; check itself writes the step outputs and summary.
set -uo pipefail

report="${RUNNER_TEMP:?}/imgsize-check.json"
args=(check -f json -o "$report" --no-progress)
if [ -n "${INPUT_CONFIG:-}" ]; then args+=(--config "$INPUT_CONFIG"); fi
for flag in max-compressed max-uncompressed max-layers max-growth max-index-compressed growth-basis warn-at baseline platform junit metrics; do
  var="INPUT_$(echo "$flag" | tr 'a-z-' 'A-Z_')"
  if [ -n "${!var:-}" ]; then args+=("--$flag" "${!var}"); fi
done
if [ "${INPUT_CACHE:-true}" = true ]; then args+=(--cache-dir "$RUNNER_TEMP/imgsize-cache"); else args+=(--no-cache); fi
# Images one per line or separated by spaces; never globbed.
set -f
# shellcheck disable=SC2206
images=(${INPUT_IMAGES:-})
set +f

imgsize "${args[@]}" "${images[@]}"
rc=$?
if [ -n "${GITHUB_OUTPUT:-}" ]; then echo "report=$report" >> "$GITHUB_OUTPUT"; fi
if [ ! -s "$report" ]; then
  exit "$rc"
fi
imgsize comment --dry-run "$report" || true
if [ "${INPUT_COMMENT:-false}" = true ]; then
  copts=(--behavior "${INPUT_COMMENT_BEHAVIOR:-update}")
  if [ -n "${INPUT_COMMENT_TAG:-}" ]; then copts+=(--tag "$INPUT_COMMENT_TAG"); fi
  if [ "${INPUT_COMMENT_SKIP_IF_PASSED:-false}" = true ]; then copts+=(--skip-if-passed); fi
  GITHUB_TOKEN="${INPUT_GITHUB_TOKEN:-${GITHUB_TOKEN:-}}" imgsize comment "${copts[@]}" "$report" || {
    c=$?
    echo "::warning::imgsize comment failed (exit $c); the check's verdict stands"
  }
fi
exit "$rc"
