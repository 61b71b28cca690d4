#!/usr/bin/env bash
# Validates `podsec check --output-format json` against editors/podsec-output.schema.json (draft-07) with
# jsonschema, on examples/, the policy scenarios with --show-exempted and --ignore, Helm charts, documents
# that do not parse, a missing path and standard input. Reuses the venv of tests/sarif/validate.sh under
# target/. Prints `json schema: OK` per valid output; exits non-zero on the first invalid one.
set -euo pipefail
cd "$(dirname "$0")/../.."

venv=target/sarif-venv
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import jsonschema' 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet jsonschema
fi

cargo build --quiet --locked --bin podsec
# Where cargo put the binary (CARGO_TARGET_DIR may move it).
target_dir="$(cargo metadata --format-version 1 --no-deps --locked | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
podsec="$target_dir/debug/podsec"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

check() {
  local name=$1
  shift
  local status=0
  "$@" > "$work/out.json" 2>/dev/null || status=$?
  if [ "$status" -gt 2 ]; then
    echo "json schema: FAILED ($name): podsec exited $status" >&2
    exit 1
  fi
  "$venv/bin/python" - "$work/out.json" "$name" <<'PY'
import json, sys
import jsonschema
schema = json.load(open("editors/podsec-output.schema.json"))
jsonschema.Draft7Validator.check_schema(schema)
document = json.load(open(sys.argv[1]))
errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(document), key=lambda e: list(e.path))
if errors:
    for error in errors[:10]:
        print(f"json schema: {sys.argv[2]}: {'/'.join(map(str, error.path))}: {error.message}", file=sys.stderr)
    sys.exit(1)
# The schema must be able to fail: a document of another version is refused.
assert list(jsonschema.Draft7Validator(schema).iter_errors({**document, "version": 2})), "version not checked"
print(f"json schema: OK {sys.argv[2]} ({len(document['files'])} files)")
PY
}

check "examples/" "$podsec" check --output-format json examples/
check "policy scenarios, --show-exempted, --ignore" "$podsec" check --output-format json --show-exempted --ignore hostPorts tests/scenarios/cluster tests/scenarios/kustomize
check "Helm charts" "$podsec" check --output-format json tests/helm
check "unparsable documents and a missing path" "$podsec" check --output-format json tests/data no-such-file.yaml
check "standard input" "$podsec" check --output-format json --stdin-filename web.yaml - < examples/insecure-deployment.yaml
