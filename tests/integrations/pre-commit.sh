#!/usr/bin/env bash
# The published pre-commit hooks (.pre-commit-hooks.yaml) through `pre-commit try-repo`, as a user's
# repository runs them: a sample git repository with a manifest that breaks the policy (the hook fails,
# naming the finding), then one that passes; and podsec-fix, which rewrites the file. The hooks run the
# `podsec` on PATH: the one `cargo build` makes here. pre-commit goes into a venv under target/. Prints
# `pre-commit: OK` per expectation met; exits non-zero on the first one that is not.
set -euo pipefail
cd "$(dirname "$0")/../.."
root="$PWD"

venv=target/pre-commit-venv
if [ ! -x "$venv/bin/pre-commit" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet pre-commit
fi
cargo build --quiet --locked --bin podsec
# Where cargo put the binary (CARGO_TARGET_DIR may move it).
target_dir="$(cargo metadata --format-version 1 --no-deps --locked | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
export PATH="$target_dir/debug:$PATH"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# try-repo clones the hooks repository at HEAD: a copy with the working tree's hooks file committed, so
# that the test sees uncommitted changes to it too.
hooks="$work/hooks"
git init -q "$hooks"
cp .pre-commit-hooks.yaml "$hooks/"
git -C "$hooks" add .pre-commit-hooks.yaml
git -C "$hooks" -c user.name=podsec -c user.email=dev@podsec.invalid commit -q -m hooks

sample="$work/sample"
git init -q "$sample"
export PRE_COMMIT_HOME="$work/cache"

try() { # hook, then expected status: runs the hook on every file of the sample repository
  local hook=$1 expected=$2 status=0
  (cd "$sample" && git add -A && "$root/$venv/bin/pre-commit" try-repo "$hooks" "$hook" --all-files) \
    > "$work/out" 2>&1 || status=$?
  if [ "$status" -ne "$expected" ]; then
    echo "pre-commit: FAILED ($hook): exit $status, expected $expected" >&2
    cat "$work/out" >&2
    exit 1
  fi
}

cp examples/insecure-deployment.yaml "$sample/deploy.yaml"
try podsec 1
grep -q 'deploy.yaml:20:11: privileged: privileged (container "app" must not set securityContext.privileged=true)' "$work/out" \
  || { echo "pre-commit: FAILED: the finding is not in the hook's output" >&2; cat "$work/out" >&2; exit 1; }
echo "pre-commit: OK podsec fails on a manifest that breaks restricted"

try podsec-fix 1
cmp -s examples/insecure-deployment.yaml "$sample/deploy.yaml" \
  && { echo "pre-commit: FAILED: podsec-fix changed nothing" >&2; exit 1; }
grep -q 'applied' "$work/out" || { echo "pre-commit: FAILED: podsec-fix did not report its fixes" >&2; exit 1; }
echo "pre-commit: OK podsec-fix rewrites the manifest and fails while violations remain"

rm "$sample/deploy.yaml"
cp examples/restricted-pod.yaml "$sample/pod.yaml"
try podsec 0
echo "pre-commit: OK podsec passes on a manifest that passes restricted"
