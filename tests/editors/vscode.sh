#!/usr/bin/env bash
# Builds, lints, unit-tests and packages the VS Code extension with the versions pinned in its lock file.
# The .vsix is platform-specific and carries the release binary: PODSEC_BINARY when set (tests/run.sh
# passes the one it built), else `npm run package` builds it with cargo.
set -euo pipefail
cd "$(dirname "$0")/../../editors/vscode"
npm ci --no-audit --no-fund --loglevel=error
npm run --silent lint
npm test
npm run --silent package
vsix="$(ls podsec-*-*.vsix)"
python3 - "$vsix" <<'PY'
import stat, sys, zipfile
names = {info.filename: info for info in zipfile.ZipFile(sys.argv[1]).infolist()}
assert "extension/out/extension.js" in names, "no extension.js"
binary = names.get("extension/bin/podsec")
assert binary is not None, "no bundled extension/bin/podsec"
assert (binary.external_attr >> 16) & stat.S_IXUSR, "the bundled binary is not executable"
PY
echo "vscode extension: built, linted, tested and packaged ($(du -k "$vsix" | cut -f1) KiB $vsix, with bin/podsec)"
