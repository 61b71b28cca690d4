#!/usr/bin/env bash
# Every benchmark, in release builds: engine throughput, the server's keystroke path and memory, the
# server under load, whole-process runs, and (with --peers) the side-by-side with Checkov, Trivy and
# yaml-language-server.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo bench --locked --bench engine
cargo bench --locked --bench lsp_keystroke
cargo bench --locked --bench lsp_load
cargo bench --locked --bench lsp_close
cargo bench --locked --bench whole_process
cargo bench --locked --bench memory
if [ "${1:-}" = "--peers" ]; then
  bash benches/peers.sh
fi
