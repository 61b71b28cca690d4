#!/usr/bin/env bash
# The GitHub Action outside GitHub: action.yml parses and declares its inputs, and its step script
# (.github/podsec-action.sh) run as the runner would run it writes a SARIF report, annotations and the
# step's outputs, fails on findings unless told not to, and always fails on a missing path. Prints
# `action: OK` per expectation met.
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
assert set(action["inputs"]) == {"paths", "level", "version", "output-file", "annotations", "fail-on-findings"}
steps = action["runs"]["steps"]
assert "cargo install --locked" in steps[0]["run"] and "$GITHUB_ACTION_PATH/server/podsec" in steps[0]["run"]
assert all("${{" not in step["run"] for step in steps), "inputs reach the scripts through the environment"
print("action: OK action.yml is a composite action with its inputs")
PY
cargo build --quiet --locked --bin podsec
# Where cargo put the binary (CARGO_TARGET_DIR may move it).
target_dir="$(cargo metadata --format-version 1 --no-deps --locked | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp examples/insecure-deployment.yaml "$work/web app.yaml"
cp examples/restricted-pod.yaml "$work/ok.yaml"
step() { (cd "$work" && PODSEC_BIN="$target_dir/debug/podsec" GITHUB_OUTPUT="$work/outputs" bash "$root/.github/podsec-action.sh" > "$work/log" 2>&1); }

status=0
PODSEC_PATHS=$'web app.yaml\nok.yaml' step || status=$?
[ "$status" -eq 1 ] || { echo "action: FAILED: exit $status on findings" >&2; exit 1; }
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
