#!/usr/bin/env bash
# The GitHub Action outside GitHub: action.yml parses and declares its inputs and steps; its install
# script (.github/podsec-install.sh) installs podsec's wheel (the one tests/dist/wheel.sh builds, built
# here if missing) from a path as `wheel:` gives it, and from the wheel cache as actions/cache restores it;
# its check script (.github/podsec-action.sh) run as the runner would run it writes a report in the format
# asked, annotations and the step's outputs, takes a project file, ignored checks and a baseline, fails on
# findings unless told not to, and always fails on a missing path. (Building the wheel from the action's
# checkout on a cache miss is pip running maturin, as tests/dist/wheel.sh does; it is not repeated here.)
# Prints `action: OK` per expectation met.
set -euo pipefail
cd "$(dirname "$0")/../.."
root="$PWD"
python=target/pre-commit-venv/bin/python # pre-commit's venv has PyYAML
if [ ! -x "$python" ] || ! "$python" -c 'import yaml' 2>/dev/null; then
  python3 -m venv target/pre-commit-venv
  target/pre-commit-venv/bin/pip install --quiet pre-commit
fi
"$python" - <<'PY'
import yaml
action = yaml.safe_load(open("action.yml"))
assert action["runs"]["using"] == "composite"
assert set(action["inputs"]) == {
    "paths", "config", "ignore", "level", "version", "baseline", "output-format", "output-file",
    "upload-sarif", "annotations", "fail-on-findings", "wheel",
}
steps = action["runs"]["steps"]
runs = [step.get("run", "") for step in steps]
uses = [step.get("uses", "") for step in steps]
assert not any("cargo" in run for run in runs), "the action installs the wheel, it does not build podsec with cargo"
assert any("podsec-install.sh\" key" in run for run in runs) and any("podsec-install.sh\" install" in run for run in runs)
cache = next(step for step in steps if step.get("uses", "").startswith("actions/cache@"))
assert cache["uses"] == "actions/cache@v5" and "steps.source.outputs.key" in cache["with"]["key"]
assert "podsec-wheels" in cache["with"]["path"]
upload = next(step for step in steps if step.get("uses", "").startswith("github/codeql-action/upload-sarif@"))
assert upload["uses"] == "github/codeql-action/upload-sarif@v4"
assert "inputs.upload-sarif == 'true'" in upload["if"] and "steps.check.outputs.sarif-file" in upload["with"]["sarif_file"]
assert all("${{" not in run for run in runs), "inputs reach the scripts through the environment"
print("action: OK action.yml is a composite action with its inputs")
PY
# Where cargo puts its builds (CARGO_TARGET_DIR may move them), and the wheel tests/dist/wheel.sh leaves there.
target_dir="$(cargo metadata --format-version 1 --no-deps --locked | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
version="$(cargo metadata --format-version 1 --no-deps --locked | python3 -c 'import json, sys; print(next(p["version"] for p in json.load(sys.stdin)["packages"] if p["name"] == "podsec"))')"
if ! compgen -G "$target_dir/wheels/podsec-$version-*.whl" > /dev/null; then
  bash tests/dist/wheel.sh >&2
fi
wheel="$(ls "$target_dir"/wheels/podsec-"$version"-*.whl | head -n 1)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export RUNNER_TEMP="$work/runner" GITHUB_ACTION_PATH="$root"
mkdir -p "$RUNNER_TEMP"
cp examples/insecure-deployment.yaml "$work/web app.yaml"
cp examples/restricted-pod.yaml "$work/ok.yaml"

# The cache key: a hash of the wheel's sources, the same twice.
GITHUB_OUTPUT="$work/key1" bash .github/podsec-install.sh key
GITHUB_OUTPUT="$work/key2" bash .github/podsec-install.sh key
grep -Eqx 'key=[0-9a-f]{32}' "$work/key1" && cmp -s "$work/key1" "$work/key2"
# `wheel:` given (a path here; pip takes a URL the same way).
PODSEC_WHEEL="$wheel" bash .github/podsec-install.sh install > "$work/install.log"
grep -qx "podsec $version" "$work/install.log"
# A cache hit: the wheel restored into podsec-wheels is installed without building or downloading.
rm -rf "$RUNNER_TEMP/podsec"
mkdir -p "$RUNNER_TEMP/podsec-wheels" && cp "$wheel" "$RUNNER_TEMP/podsec-wheels/"
PODSEC_WHEEL= bash .github/podsec-install.sh install > "$work/install.log"
grep -qx "podsec $version" "$work/install.log"
[ "$(ls "$RUNNER_TEMP/podsec-wheels")" = "$(basename "$wheel")" ] || { echo "action: FAILED: a cache hit built a wheel" >&2; exit 1; }
echo "action: OK the install step installs the wheel, given or cached"

# The check step runs the podsec the install step put in $RUNNER_TEMP/podsec.
step() { (cd "$work" && rm -f "$work/outputs" && GITHUB_OUTPUT="$work/outputs" bash "$root/.github/podsec-action.sh" > "$work/log" 2>&1); }

status=0
PODSEC_PATHS=$'web app.yaml\nok.yaml' step || status=$?
[ "$status" -eq 1 ] || { echo "action: FAILED: exit $status on findings" >&2; cat "$work/log" >&2; exit 1; }
grep -q '^::error file=web app.yaml,line=20,col=11,' "$work/log" || { echo "action: FAILED: no annotation" >&2; exit 1; }
grep -qx 'exit-code=1' "$work/outputs" && grep -qx 'sarif-file=podsec.sarif' "$work/outputs"
"$python" -c "import json,sys; assert len(json.load(open(sys.argv[1]))['runs'][0]['results']) == 11" "$work/podsec.sarif"
echo "action: OK findings fail the step, with SARIF, annotations and outputs"

status=0
PODSEC_PATHS='ok.yaml web' PODSEC_FAIL=false step || status=$?
[ "$status" -eq 2 ] || { echo "action: FAILED: exit $status on a missing path" >&2; exit 1; }
PODSEC_PATHS=$'web app.yaml\n' PODSEC_LEVEL=privileged PODSEC_VERSION=v1.30 step
PODSEC_PATHS=$'web app.yaml\n' PODSEC_FAIL=false PODSEC_OUTPUT=out.sarif step
[ -s "$work/out.sarif" ]
echo "action: OK level, version, output-file and fail-on-findings; a missing path always fails"

# The project file, ignored checks, another format and a baseline.
printf 'level: baseline\n' > "$work/baseline-level.yaml"
status=0
PODSEC_PATHS=$'web app.yaml\n' PODSEC_CONFIG=baseline-level.yaml PODSEC_ANNOTATIONS=false step || status=$?
[ "$status" -eq 1 ] || { echo "action: FAILED: exit $status with config" >&2; exit 1; }
"$python" -c "import json,sys; r=json.load(open(sys.argv[1]))['runs'][0]['results']; assert sorted({x['ruleId'] for x in r}) == ['capabilities_baseline', 'hostPathVolumes', 'hostPorts', 'privileged'], r" "$work/podsec.sarif"
grep -qx 'sarif-file=podsec.sarif' "$work/outputs"
PODSEC_PATHS=$'web app.yaml\n' PODSEC_CONFIG=baseline-level.yaml PODSEC_IGNORE='capabilities_baseline, hostPathVolumes,hostPorts privileged' step
grep -qx 'exit-code=0' "$work/outputs"
status=0
PODSEC_PATHS=$'web app.yaml\n' PODSEC_FORMAT=junit PODSEC_OUTPUT=podsec.xml PODSEC_ANNOTATIONS=false step || status=$?
[ "$status" -eq 1 ] && grep -qx 'report-file=podsec.xml' "$work/outputs" && ! grep -q '^sarif-file=' "$work/outputs"
"$python" -c "import sys, xml.etree.ElementTree as t; assert t.parse(sys.argv[1]).getroot().tag == 'testsuites'" "$work/podsec.xml"
grep -q 'Found 11 errors' "$work/log" || { echo "action: FAILED: the log has no text summary" >&2; exit 1; }
(cd "$work" && "$RUNNER_TEMP/podsec/bin/podsec" check --write-baseline known.json "web app.yaml" > /dev/null 2>&1 || true)
PODSEC_PATHS=$'web app.yaml\n' PODSEC_BASELINE=known.json step
grep -qx 'exit-code=0' "$work/outputs"
echo "action: OK config, ignore, output-format and baseline"
