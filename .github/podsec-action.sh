#!/usr/bin/env bash
# The action's step (action.yml): runs the installed podsec on the inputs given in PODSEC_* variables,
# writes the SARIF report and the step's outputs. tests/integrations/action.sh runs it outside GitHub.
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
policy=()
[ -n "${PODSEC_LEVEL:-}" ] && policy+=(--level "$PODSEC_LEVEL")
[ -n "${PODSEC_VERSION:-}" ] && policy+=(--policy-version "$PODSEC_VERSION")
output="${PODSEC_OUTPUT:-podsec.sarif}"
status=0
"$podsec" check --output-format sarif "${policy[@]}" -- "${paths[@]}" > "$output" || status=$?
if [ "${PODSEC_ANNOTATIONS:-true}" = true ] && [ "$status" -le 1 ]; then
  "$podsec" check --output-format github "${policy[@]}" -- "${paths[@]}" || true
fi
{
  echo "sarif-file=$output"
  echo "exit-code=$status"
} >> "${GITHUB_OUTPUT:-/dev/null}"
if [ "$status" -eq 1 ] && [ "${PODSEC_FAIL:-true}" != true ]; then
  exit 0
fi
exit "$status"
