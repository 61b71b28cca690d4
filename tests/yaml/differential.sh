#!/usr/bin/env bash
# Differential test of podsec's YAML reading against libyaml's (PyYAML's C loader, in a venv under target/):
# every YAML file of tests/ and examples/, the upstream conformance fixtures, the lenient shapes of
# tests/yaml-leniency/ and those its generate.py writes under target/. Prints `yaml differential: OK (N documents, N agree, K known)`; fails on a difference
# that tests/yaml/known-differences.tsv does not list (ARCHITECTURE.md explains each one listed).
set -euo pipefail
cd "$(dirname "$0")/../.."

shared="${PODSEC_SHARED:-../shared}"
venv=target/yaml-venv
if ! "$venv/bin/python" -c 'import yaml, sys; sys.exit(not yaml.__with_libyaml__)' 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet 'PyYAML==6.0.3'
fi

cargo build --quiet --locked -p podsec-engine --example yaml_dump
# Where cargo put the binary (CARGO_TARGET_DIR may move it).
target_dir="$(cargo metadata --format-version 1 --no-deps --locked | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
dump="$target_dir/debug/examples/yaml_dump"

generated=target/yaml-leniency
python3 tests/yaml-leniency/generate.py "$generated"

list="$(mktemp)"
out="$(mktemp)"
trap 'rm -f "$list" "$out"' EXIT
{
  find tests examples -type f \( -name '*.yaml' -o -name '*.yml' \) | LC_ALL=C sort
  find "$generated" -type f -name '*.yaml' | LC_ALL=C sort
  find "$shared/conformance/psa-testdata" -type f \( -name '*.yaml' -o -name '*.yml' \) | LC_ALL=C sort
} >"$list"

mapfile -t files <"$list"
"$dump" "${files[@]}" >"$out"
"$venv/bin/python" tests/yaml/differential.py "$out" tests/yaml/known-differences.tsv "${files[@]}"
