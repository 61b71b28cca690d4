#!/usr/bin/env bash
# Validates `podsec check --output-format junit` against junit-10.xsd, the JUnit schema of Jenkins' xUnit
# plugin (Gregory Boissinot's, MIT; the schema pytest holds its own JUnit XML to). It is taken from the
# pytest 8.3.4 source distribution on PyPI (testing/example_scripts/junit-10.xsd, checked by its SHA-256)
# and read with xmlschema, both in a venv under target/. One extension is allowed, and required: the
# `file` attribute of a <testcase>, which GitLab's test report reads (the schema has it on <testsuite>
# only); it must name the suite's file. Everything else is strict. Runs on examples/, tests/helm,
# tests/data (unparsable documents), a live cluster's List, --show-exempted, standard input and a name
# with a space, é, & and <. Prints `junit schema: OK` per valid output.
set -euo pipefail
cd "$(dirname "$0")/../.."

venv=target/junit-venv
schema=target/junit-schema/junit-10.xsd
schema_sha256=a1a816f58d1bf95ebabf371994df0b9246dee66ea9572fbec4f9296f1b2c0ff6
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import xmlschema' 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check xmlschema==4.3.2
fi
if ! echo "$schema_sha256  $schema" | sha256sum --check --status 2>/dev/null; then
  download="$(mktemp -d)"
  "$venv/bin/pip" download --quiet --disable-pip-version-check --no-deps --no-binary :all: \
    pytest==8.3.4 -d "$download"
  mkdir -p "$(dirname "$schema")"
  tar -xzf "$download/pytest-8.3.4.tar.gz" -O pytest-8.3.4/testing/example_scripts/junit-10.xsd > "$schema"
  rm -rf "$download"
  echo "$schema_sha256  $schema" | sha256sum --check --status
fi

cargo build --quiet --locked --bin podsec
# Where cargo put the binary (CARGO_TARGET_DIR may move it).
target_dir="$(cargo metadata --format-version 1 --no-deps --locked | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
podsec="$target_dir/debug/podsec"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
odd="$work/sp ace é & <x>.yaml"
cp examples/insecure-deployment.yaml "$odd"

check() {
  local name=$1
  shift
  local status=0
  "$@" > "$work/out.xml" || status=$?
  if [ "$status" -gt 1 ]; then
    echo "junit schema: FAILED ($name): podsec exited $status" >&2
    exit 1
  fi
  "$venv/bin/python" - "$schema" "$work/out.xml" "$name" <<'PY'
import sys
import xml.etree.ElementTree as ElementTree
import xmlschema
schema_path, path, name = sys.argv[1:]
tree = ElementTree.parse(path)
cases = 0
for suite in tree.getroot().iter("testsuite"):
    for case in suite.iter("testcase"):
        cases += 1
        # GitLab's extension: the case's file, the suite's. Taken off, the rest must be junit-10.xsd's.
        assert case.attrib.pop("file", None) == suite.get("file"), (name, case.attrib, suite.attrib)
        assert len(case.findall("failure")) <= 1, (name, "one <failure> per case", case.attrib)
assert cases > 0, (name, "no test case")
xmlschema.XMLSchema(schema_path).validate(tree)
print(f"junit schema: OK {name} ({cases} cases)")
PY
}

check "examples/" "$podsec" check --output-format junit examples/
check "tests/helm" "$podsec" check --output-format junit tests/helm
# Charts rendered by the real Helm (tests/helm/install.sh; tests/run.sh exports its path), findings in values files.
helm="${PODSEC_TEST_HELM:-$(bash tests/helm/install.sh)}"
check "charts rendered by Helm" "$podsec" check --output-format junit --helm "$helm" \
  --config tests/helm/releases.podsec.yaml tests/helm/shop tests/helm/store
check "unparsable documents" "$podsec" check --output-format junit tests/data
check "a live cluster's List" "$podsec" check --output-format junit --show-exempted tests/data/cluster-list.yaml
check "policy scenarios, --show-exempted" "$podsec" check --output-format junit --show-exempted tests/scenarios/cluster
check "standard input" "$podsec" check --output-format junit - < examples/insecure-deployment.yaml
check "a name with a space, é, & and <" "$podsec" check --output-format junit "$odd"
