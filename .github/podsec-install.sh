#!/usr/bin/env bash
# The action's install steps (action.yml). podsec is not on PyPI, so:
# - `key`: prints `key=<hash>` to GITHUB_OUTPUT, a hash of the sources the wheel is built from, which
#   keys the cache of built wheels (actions/cache keeps $RUNNER_TEMP/podsec-wheels between runs);
# - `install`: installs the wheel PODSEC_WHEEL names (a URL or path: pip downloads it, its HTTP cache
#   keeps it) into the venv $RUNNER_TEMP/podsec, or else the one cached in $RUNNER_TEMP/podsec-wheels,
#   building it first from the action's checkout when there is none (pip runs maturin: a release build
#   with the runner's Rust toolchain, a few minutes, once per podsec source).
# tests/integrations/action.sh runs both outside GitHub.
set -euo pipefail
source_dir="${GITHUB_ACTION_PATH:?}"
wheels="${RUNNER_TEMP:?}/podsec-wheels"
venv="$RUNNER_TEMP/podsec"
case "${1:-}" in
  key)
    key="$(cd "$source_dir" && find Cargo.toml Cargo.lock pyproject.toml python server -type f -print0 |
      LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -c1-32)"
    echo "key=$key" >> "${GITHUB_OUTPUT:-/dev/null}"
    ;;
  install)
    python3 -m venv "$venv"
    pip=("$venv/bin/pip" --disable-pip-version-check --quiet)
    if [ -n "${PODSEC_WHEEL:-}" ]; then
      "${pip[@]}" install "$PODSEC_WHEEL"
    else
      if ! compgen -G "$wheels/podsec-*.whl" > /dev/null; then
        "${pip[@]}" wheel --no-deps --wheel-dir "$wheels" "$source_dir"
      fi
      "${pip[@]}" install --no-index --find-links "$wheels" podsec
    fi
    "$venv/bin/podsec" --version
    ;;
  *)
    echo "usage: podsec-install.sh key|install" >&2
    exit 2
    ;;
esac
