#!/usr/bin/env bash
# The whole test suite, from a fresh machine: what the README's test command runs and what CI runs.
# It installs what the tests need and needs nothing installed by hand beyond the Rust toolchain.
set -euo pipefail
cd "$(dirname "$0")/.."

shared="${PODSEC_SHARED:-../shared}"
if [ ! -f "$shared/conformance/psa-testdata/expected.tsv" ]; then
  echo "tests/run.sh: the conformance fixtures are missing: expected $shared/ beside the repository" >&2
  exit 2
fi

# Engine, CLI, conformance and language-server tests. Snapshots are never rewritten here.
INSTA_UPDATE=no cargo test --workspace --locked
