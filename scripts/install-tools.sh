#!/usr/bin/env bash
# Build the pinned Helm 3, Helm 4 and kustomize binaries (and the k8sread test oracle) the end-to-end tests run, with
# `go install`, into a cache outside the checkout (CI clones main anew each run, so the cache
# must live elsewhere to be reused). Prints the bin directory on stdout; put it on PATH.
#
#   PXSEC_TOOLS_DIR   cache root (default: ${XDG_CACHE_HOME:-$HOME/.cache}/pxsec-tools)
#
# Layout: $PXSEC_TOOLS_DIR/bin/{helm3,helm4,kustomize}; each binary is rebuilt only when
# its pinned version changes (a stamp file beside it records the version).
set -euo pipefail

HELM3_VERSION=v3.22.0
HELM4_VERSION=v4.2.4
KUSTOMIZE_VERSION=v5.8.2

root=${PXSEC_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/pxsec-tools}
bin=$root/bin
mkdir -p "$bin"

build() { # name module version
  local name=$1 module=$2 version=$3
  if [ -x "$bin/$name" ] && [ "$(cat "$bin/$name.version" 2>/dev/null)" = "$module@$version" ]; then
    return 0
  fi
  local tmp
  tmp=$(mktemp -d "$root/build.XXXXXX")
  echo "install-tools: go install $module@$version" >&2
  GOBIN=$tmp GOFLAGS=-mod=mod CGO_ENABLED=0 go install "$module@$version" >&2
  mv -f "$tmp/$(basename "${module%/v[0-9]*}")" "$bin/$name" 2>/dev/null || mv -f "$tmp"/* "$bin/$name"
  rm -rf "$tmp"
  echo "$module@$version" > "$bin/$name.version"
}

command -v go >/dev/null || { echo "install-tools: go is not on PATH" >&2; exit 1; }
build helm3 helm.sh/helm/v3/cmd/helm "$HELM3_VERSION"
build helm4 helm.sh/helm/v4/cmd/helm "$HELM4_VERSION"
build kustomize sigs.k8s.io/kustomize/kustomize/v5 "$KUSTOMIZE_VERSION"

# --- k8sread: the test oracle (tools/k8sread, Kubernetes' own YAML reader) -------------------
# Built from this checkout's sources; rebuilt when go.mod, go.sum or main.go change (the stamp
# is their hash). Self-contained: other tools' blocks do not depend on it.
build_k8sread() {
  local src here stamp tmp
  here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  src=$here/tools/k8sread
  stamp=$(cd "$src" && cat go.mod go.sum main.go | sha256sum | cut -d' ' -f1)
  if [ -x "$bin/k8sread" ] && [ "$(cat "$bin/k8sread.version" 2>/dev/null)" = "$stamp" ]; then
    return 0
  fi
  tmp=$(mktemp -d "$root/build.XXXXXX")
  echo "install-tools: go build tools/k8sread" >&2
  (cd "$src" && GOFLAGS=-mod=mod CGO_ENABLED=0 go build -trimpath -o "$tmp/k8sread" .) >&2
  mv -f "$tmp/k8sread" "$bin/k8sread"
  rm -rf "$tmp"
  echo "$stamp" > "$bin/k8sread.version"
}
build_k8sread
echo "$bin"
