#!/usr/bin/env bash
# Puts kube-apiserver, kube-controller-manager, kubectl, etcd and helm into bin/.
#
# No prebuilt Kubernetes binaries can be downloaded where certinel is developed,
# so they are built from the k8s.io/kubernetes module pinned in e2e/tools/go.mod.
# etcd is built from the same module, at the version Kubernetes pins. The
# results are cached in ~/.cache/certinel/<version>/ so that any clone on the
# same machine links them instead of spending ~15 minutes rebuilding.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
tools=$root/e2e/tools
version=$(cd "$tools" && go list -m -f "{{.Version}}" k8s.io/kubernetes)
[ -n "$version" ] || { echo "cannot read the k8s.io/kubernetes version from $tools/go.mod" >&2; exit 1; }
cache=${CERTINEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/certinel}/$version
bin=$root/bin
mkdir -p "$cache" "$bin"

# name=package of every binary, all built from the tools module so that etcd
# is the version k8s.io/kubernetes is tested with (v3.7.x; Debian's 3.4 lacks
# the watch progress requests that streaming lists need).
tools_bins=(
  kube-apiserver=k8s.io/kubernetes/cmd/kube-apiserver
  kube-controller-manager=k8s.io/kubernetes/cmd/kube-controller-manager
  kubectl=k8s.io/kubernetes/cmd/kubectl
  etcd=go.etcd.io/etcd/server/v3
)
missing=()
for nb in "${tools_bins[@]}"; do
  [ -x "$cache/${nb%%=*}" ] || missing+=("$nb")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "building ${missing[*]%%=*} ($version) into $cache (cold build: about 15 minutes on 2 cores)" >&2
  minor=$(echo "$version" | cut -d. -f2)
  ldflags="-s -w"
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $p.gitVersion=$version -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
  done
  tmp=$(mktemp -d "$cache/.build.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  for nb in "${missing[@]}"; do
    # one package per build: several at once name a binary after its last
    # path element, which for etcd is "server"
    (cd "$tools" && CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$tmp/${nb%%=*}" "${nb#*=}")
    mv "$tmp/${nb%%=*}" "$cache/"
  done
fi
for nb in "${tools_bins[@]}"; do ln -sfn "$cache/${nb%%=*}" "$bin/${nb%%=*}"; done

# helm, for the chart tests (helm lint, helm template), from its own module
# e2e/tools/helm so that its dependencies leave the Kubernetes build alone.
# Cold build: about 2 minutes on 2 cores.
helm_mod=$tools/helm
helm_version=$(cd "$helm_mod" && go list -m -f "{{.Version}}" helm.sh/helm/v3)
[ -n "$helm_version" ] || { echo "cannot read the helm version from $helm_mod/go.mod" >&2; exit 1; }
helm_cache=$(dirname "$cache")/helm-$helm_version
if [ ! -x "$helm_cache/helm" ]; then
  echo "building helm $helm_version into $helm_cache" >&2
  mkdir -p "$helm_cache"
  htmp=$(mktemp -d "$helm_cache/.build.XXXXXX")
  (cd "$helm_mod" && CGO_ENABLED=0 go build -trimpath \
    -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$helm_version" \
    -o "$htmp/helm" helm.sh/helm/v3/cmd/helm)
  mv "$htmp/helm" "$helm_cache/helm"
  rm -rf "$htmp"
fi
ln -sfn "$helm_cache/helm" "$bin/helm"
# ETCD=/path/to/etcd uses another etcd (3.5 or later)
if [ -n "${ETCD:-}" ]; then ln -sfn "$ETCD" "$bin/etcd"; fi
echo "$bin"
