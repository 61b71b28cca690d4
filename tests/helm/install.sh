#!/usr/bin/env bash
# Installs Helm for the tests that render charts: Helm v4's own library from PyPI's helm-python-sdk, driven by
# ../shared/helm/helm-template.py (`helm template` and `helm version`), in a venv under target/helm. Prints
# the path of the `helm` it makes, which the tests read from PODSEC_TEST_HELM.
set -euo pipefail
cd "$(dirname "$0")/../.."

shared="$(cd "${PODSEC_SHARED:-../shared}" && pwd)"
venv="$PWD/target/helm/venv"
helm="$PWD/target/helm/bin/helm"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import helm_python, yaml' 2>/dev/null; then
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check helm-python-sdk==0.2.2 pyyaml==6.0.4 >&2
fi
mkdir -p "$(dirname "$helm")"
printf '#!/bin/sh\nexec "%s" "%s" "$@"\n' "$venv/bin/python" "$shared/helm/helm-template.py" > "$helm"
chmod +x "$helm"
"$helm" version >&2 && echo >&2
echo "$helm"
