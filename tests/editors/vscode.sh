#!/usr/bin/env bash
# Builds, lints, unit-tests and packages the VS Code extension with the versions pinned in its lock file.
set -euo pipefail
cd "$(dirname "$0")/../../editors/vscode"
npm ci --no-audit --no-fund --loglevel=error
npm run --silent lint
npm test
npm run --silent package
python3 -c "import zipfile,sys; names=zipfile.ZipFile('podsec.vsix').namelist(); sys.exit(0 if 'extension/out/extension.js' in names else 1)"
echo "vscode extension: built, linted, tested and packaged ($(du -k podsec.vsix | cut -f1) KiB podsec.vsix)"
