#!/usr/bin/env bash
# Differential test of podsec's reading against kubectl's: `goyaml` (../shared/goyaml: go-yaml v2.4.0,
# sigs.k8s.io/yaml 1.3.0 and kubectl's own document splitter, built here from Debian's packages) against
# podsec's `yaml_dump` example, document by document and value by value, on every YAML and JSON file of the
# repository (git's list), the upstream conformance fixtures, the fuzz seeds, the lenient shapes of tests/yaml-leniency/
# (and those its generate.py writes) and the adversarial set tests/yaml/adversarial.py writes. Prints
# `yaml differential: OK (N documents, N agree, K known)`; fails on a difference that
# tests/yaml/known-differences.tsv does not list (each listed with why it cannot change a verdict).
set -euo pipefail
cd "$(dirname "$0")/../.."

shared="${PODSEC_SHARED:-../shared}"
target_dir="$(cargo metadata --format-version 1 --no-deps --locked | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"

# Go and the two libraries, from Debian (the real go-yaml v2.4.0 and sigs.k8s.io/yaml 1.3.0, built offline).
missing=()
command -v go >/dev/null || missing+=(golang-go)
[ -d /usr/share/gocode/src/gopkg.in/yaml.v2 ] || missing+=(golang-gopkg-yaml.v2-dev)
[ -d /usr/share/gocode/src/sigs.k8s.io/yaml ] || missing+=(golang-k8s-sigs-yaml-dev)
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "yaml differential: needs Debian's ${missing[*]} (apt-get install ${missing[*]})" >&2
    exit 2
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
goyaml="$(sh "$shared/goyaml/build.sh" "$target_dir/goyaml")"

cargo build --quiet --locked -p podsec-engine --example yaml_dump
dump="$target_dir/debug/examples/yaml_dump"

generated="$target_dir/yaml-leniency"
python3 tests/yaml-leniency/generate.py "$generated"
adversarial="$target_dir/yaml-adversarial"
rm -rf "$adversarial"
python3 tests/yaml/adversarial.py "$adversarial"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# Every YAML and JSON file of the repository (and every fuzz seed), then the fixtures and the generated sets;
# those that are UTF-8 (podsec reads nothing else as such; the CLI decodes UTF-16 before the reader).
git ls-files -- '*.yaml' '*.yml' '*.json' 'fuzz/seeds/*' >"$work/repository" 2>/dev/null \
  || find . -path ./target -prune -o -type f \( -name '*.yaml' -o -name '*.yml' -o -name '*.json' \) -print >"$work/repository"
python3 - "$work/list" "$work/repository" "$shared/conformance/psa-testdata" "$generated" "$adversarial" <<'EOF'
import os, sys
out, repository, *roots = sys.argv[1:]
with open(repository, encoding="utf-8") as f:
    files = [line.strip().removeprefix("./") for line in f if line.strip()]
files = [path for path in files if os.path.isfile(path)]
for path in list(files):
    try:
        open(path, encoding="utf-8").read()
    except (UnicodeDecodeError, OSError):
        files.remove(path)
for root in [*roots]:
    for dirpath, _, names in os.walk(root):
        for name in names:
            if name.endswith((".yaml", ".yml", ".json")):
                path = os.path.join(dirpath, name)
                try:
                    open(path, encoding="utf-8").read()
                except (UnicodeDecodeError, OSError):
                    continue
                files.append(path)
with open(out, "w", encoding="utf-8") as f:
    f.write("".join(p + "\n" for p in sorted(set(files))))
EOF
mapfile -t files <"$work/list"
"$goyaml" -mode podsec "${files[@]}" | "$goyaml" -normalize >"$work/kubectl"
"$dump" "${files[@]}" | "$goyaml" -normalize >"$work/podsec"
python3 tests/yaml/differential.py "$work/kubectl" "$work/podsec" tests/yaml/known-differences.tsv
