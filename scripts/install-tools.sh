#!/usr/bin/env bash
# Build the binaries the end-to-end tests run, pinned, from the Go module proxy, into a cache
# outside the checkout (CI clones main anew each run, so the cache must live elsewhere to be
# reused): Helm 3, Helm 4 and kustomize (`go install`), Argo CD's cmp-server and a
# GenerateManifests client (tools/argocd-cmp), kube-apiserver (tools/kube-apiserver), the k8sread
# oracle (tools/k8sread); and Debian's etcd-server when missing (as root). Prints the bin
# directory on stdout; put it on PATH.
#
#   PXSEC_TOOLS_DIR   cache root (default: ${XDG_CACHE_HOME:-$HOME/.cache}/pxsec-tools)
#
# Layout: $PXSEC_TOOLS_DIR/bin/<name>; each binary is rebuilt only when its pinned version (or
# its module's files) change: a stamp file beside it records them.
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

# Argo CD (issue 15): Argo CD's own argocd-cmp-server and argocd-generate (a client that calls
# Argo CD's repo-server GenerateManifests), built from tools/argocd-cmp (a small Go module that
# pins argo-cd; see its go.mod for why that version). Rebuilt only when the module changes: the
# stamp is the pinned argo-cd version plus a hash of the module's files. A lock makes concurrent
# runs wait for one build instead of each spending minutes on it.
build_argocd() {
  local src version stamp tmp
  src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../tools/argocd-cmp" && pwd)
  version=$(awk '$1 == "github.com/argoproj/argo-cd/v3" && $2 ~ /^v/ {print $2; exit}' "$src/go.mod")
  stamp="argo-cd@$version $(cd "$src" && find . -type f \( -name '*.go' -o -name 'go.mod' -o -name 'go.sum' \) | LC_ALL=C sort | xargs cat | sha256sum | cut -c1-16)"
  exec 9>"$bin/.argocd.lock"
  command -v flock >/dev/null && flock 9
  if [ -x "$bin/argocd-cmp-server" ] && [ -x "$bin/argocd-generate" ] &&
     [ "$(cat "$bin/argocd-cmp-server.version" 2>/dev/null)" = "$stamp" ]; then
    exec 9>&-; return 0
  fi
  tmp=$(mktemp -d "$root/build.XXXXXX")
  echo "install-tools: go build argocd-cmp-server, argocd-generate ($stamp)" >&2
  (cd "$src" && GOFLAGS=-mod=readonly CGO_ENABLED=0 \
    go build -buildvcs=false -trimpath -ldflags='-s -w' -o "$tmp/" ./cmd/argocd-cmp-server ./cmd/argocd-generate) >&2
  mv -f "$tmp/argocd-cmp-server" "$tmp/argocd-generate" "$bin/"
  rm -rf "$tmp"
  echo "$stamp" > "$bin/argocd-cmp-server.version"
  exec 9>&-
}
build_argocd

# kube-apiserver for the real-cluster end-to-end tests (tests/e2e/cluster.py). It cannot be
# `go install`ed (k8s.io/kubernetes replaces its staging modules with local paths), so it is
# built from the small module in tools/kube-apiserver, which pins the version below in its go.mod.
# First build: about 11 CPU-minutes (22 minutes on 2 busy cores). A lock makes a concurrent run
# wait instead of building it twice. etcd is Debian's etcd-server, installed here when missing.
KUBE_APISERVER_VERSION=v1.34.12
build_kube_apiserver() {
  local src stamp=k8s.io/kubernetes@$KUBE_APISERVER_VERSION
  src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../tools/kube-apiserver" && pwd)
  grep -Eq "^[[:space:]]*(require )?k8s.io/kubernetes $KUBE_APISERVER_VERSION\$" "$src/go.mod" || {
    echo "install-tools: tools/kube-apiserver/go.mod does not pin $KUBE_APISERVER_VERSION" >&2; return 1; }
  exec 9>"$bin/kube-apiserver.lock"
  flock 9
  if [ -x "$bin/kube-apiserver" ] && [ "$(cat "$bin/kube-apiserver.version" 2>/dev/null)" = "$stamp" ]; then
    exec 9>&-; return 0
  fi
  local minor=${KUBE_APISERVER_VERSION#v1.}; minor=${minor%%.*}
  local tmp
  tmp=$(mktemp -d "$root/build.XXXXXX")
  echo "install-tools: go build kube-apiserver $KUBE_APISERVER_VERSION (the first build takes 10-20 minutes)" >&2
  (cd "$src" && CGO_ENABLED=0 go build -mod=readonly -trimpath -o "$tmp/kube-apiserver" \
    -ldflags "-s -w -X k8s.io/component-base/version.gitVersion=$KUBE_APISERVER_VERSION \
      -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor \
      -X k8s.io/component-base/version.gitTreeState=clean" .) >&2
  mv -f "$tmp/kube-apiserver" "$bin/kube-apiserver"
  rm -rf "$tmp"
  echo "$stamp" > "$bin/kube-apiserver.version"
  exec 9>&-
}
install_etcd() {
  command -v etcd >/dev/null && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "install-tools: apt-get install etcd-server" >&2
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq etcd-server; } >&2
  else
    echo "install-tools: etcd is missing; install Debian's etcd-server (the real-cluster tests need it)" >&2
  fi
}
build_kube_apiserver
install_etcd

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
