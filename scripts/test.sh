#!/usr/bin/env bash
# The whole test suite, on a fresh machine: a venv with pxsec installed (not editable) and the
# test dependencies, the pinned helm 3/4, kustomize and kube-apiserver, and etcd when missing
# (scripts/install-tools.sh, cached), then pytest. kpt and kubectl come with the machine image.
# Extra arguments go to pytest.
#
#   PXSEC_VENV          venv location (default: .venv in the checkout)
#   PXSEC_REQUIRE_E2E   1 (default here): tests that need a real binary fail instead of skipping
set -euo pipefail
cd "$(dirname "$0")/.."

venv=${PXSEC_VENV:-.venv}
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check ".[test]"

tools=$(bash scripts/install-tools.sh)
venv=$(cd "$venv" && pwd)  # absolute (PXSEC_VENV may be relative or absolute)
export PATH="$venv/bin:$tools:$PATH"
export PXSEC_REQUIRE_E2E=${PXSEC_REQUIRE_E2E:-1}
for bin in helm3 helm4 kustomize kpt kubectl pxsec kube-apiserver etcd; do
  command -v "$bin" >/dev/null || { echo "test.sh: $bin is not on PATH" >&2; exit 1; }
done

"$venv/bin/python" -m pytest -q -p no:cacheprovider "$@"
