#!/usr/bin/env bash
# The action's check step (action.yml): runs the installed podsec on the inputs given in PODSEC_*
# variables, writes the report (the terminal keeps the text summary) and the step's outputs.
# tests/integrations/action.sh runs it outside GitHub.
set -euo pipefail
podsec="${PODSEC_BIN:-$RUNNER_TEMP/podsec/bin/podsec}"
# One path per line (names may hold spaces), or several on one line separated by spaces.
input="${PODSEC_PATHS:-.}"
paths=()
if [[ "$input" == *$'\n'* ]]; then
  while IFS= read -r line; do
    [ -n "$line" ] && paths+=("$line")
  done <<< "$input"
else
  read -r -a paths <<< "$input"
fi
[ "${#paths[@]}" -gt 0 ] || paths=(.)
options=()
[ -n "${PODSEC_CONFIG:-}" ] && options+=(--config "$PODSEC_CONFIG")
[ -n "${PODSEC_LEVEL:-}" ] && options+=(--level "$PODSEC_LEVEL")
[ -n "${PODSEC_VERSION:-}" ] && options+=(--policy-version "$PODSEC_VERSION")
[ -n "${PODSEC_BASELINE:-}" ] && options+=(--baseline "$PODSEC_BASELINE")
if [ -n "${PODSEC_IGNORE:-}" ]; then
  read -r -a ignored <<< "${PODSEC_IGNORE//,/ }"
  for check in "${ignored[@]}"; do options+=(--ignore "$check"); done
fi
format="${PODSEC_FORMAT:-sarif}"
output="${PODSEC_OUTPUT:-podsec.sarif}"
status=0
"$podsec" check --output-format "$format" --output-file "$output" "${options[@]}" -- "${paths[@]}" || status=$?
if [ "${PODSEC_ANNOTATIONS:-true}" = true ] && [ "$status" -le 1 ]; then
  "$podsec" check --output-format github "${options[@]}" -- "${paths[@]}" || true
fi
{
  echo "report-file=$output"
  if [ "$format" = sarif ] && [ "$status" -le 1 ]; then echo "sarif-file=$output"; fi
  echo "exit-code=$status"
} >> "${GITHUB_OUTPUT:-/dev/null}"
if [ "$status" -eq 1 ] && [ "${PODSEC_FAIL:-true}" != true ]; then
  exit 0
fi
exit "$status"
