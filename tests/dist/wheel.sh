#!/usr/bin/env bash
# The Python wheel that carries the binary (pyproject.toml: maturin, `bindings = "bin"`): builds it with
# maturin (from PyPI, in a venv under target/) into cargo's own target directory, so that a release build
# cargo already made is reused and not done twice; installs it into a fresh venv; runs `podsec` and
# `python -m podsec` from there with no Rust toolchain on PATH. Prints `wheel: OK (<size> KB)`.
# The wheel is left in <target>/wheels/ (the README's install line takes it from there).
set -euo pipefail
cd "$(dirname "$0")/../.."

tools=target/dist-venv
if [ ! -x "$tools/bin/maturin" ]; then
  python3 -m venv "$tools"
  "$tools/bin/pip" install --quiet --disable-pip-version-check maturin==1.16.0
fi

# Where cargo puts its builds (CARGO_TARGET_DIR may move them); maturin builds there too.
target_dir="$(cargo metadata --format-version 1 --no-deps --locked | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
version="$(cargo metadata --format-version 1 --no-deps --locked | python3 -c 'import json, sys; print(next(p["version"] for p in json.load(sys.stdin)["packages"] if p["name"] == "podsec"))')"
wheels="$target_dir/wheels"
rm -f "$wheels"/podsec-*.whl
start=$(date +%s.%N)
CARGO_TARGET_DIR="$target_dir" "$tools/bin/maturin" build --release --locked --quiet --out "$wheels" >&2
seconds=$(python3 -c "import time; print(f'{time.time() - $start:.1f}')")
wheel="$(ls "$wheels"/podsec-"$version"-py3-none-*.whl)"
echo "wheel: built $(basename "$wheel") in ${seconds} s"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet --disable-pip-version-check --no-index "$wheel"
# Only the venv and the system's own directories: no cargo, no rustc, no other podsec.
clean_path="$work/venv/bin:/usr/bin:/bin"
if env PATH="$clean_path" sh -c 'command -v cargo || command -v rustc' >/dev/null; then
  echo "wheel: FAILED: a Rust toolchain is on the test's PATH ($clean_path)" >&2
  exit 1
fi
run() { env -i HOME="$work" PATH="$clean_path" "$@"; }
test "$(run sh -c 'command -v podsec')" = "$work/venv/bin/podsec"
test "$(run podsec --version)" = "podsec $version"
test "$(run python -m podsec --version)" = "podsec $version"
status=0
run podsec check examples/ > "$work/check.txt" || status=$?
if [ "$status" -ne 1 ] || ! grep -q '^Found [0-9]* errors' "$work/check.txt"; then
  echo "wheel: FAILED: podsec check examples/ exited $status (expected 1, violations found)" >&2
  cat "$work/check.txt" >&2
  exit 1
fi
echo "wheel: OK ($(( $(stat -c %s "$wheel") / 1024 )) KB)"
