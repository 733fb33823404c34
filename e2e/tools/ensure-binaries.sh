#!/usr/bin/env bash
# Puts kube-apiserver, kube-controller-manager, kubectl and etcd into bin/.
#
# No prebuilt Kubernetes binaries can be downloaded where certinel is developed,
# so they are built from the k8s.io/kubernetes module pinned in e2e/tools/go.mod.
# The result is cached in ~/.cache/certinel/<version>/ so that any clone on the
# same machine links it instead of spending ~15 minutes rebuilding.
# etcd comes from Debian's etcd-server package (installed when missing and root),
# or from $ETCD if set.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
tools=$root/e2e/tools
version=$(cd "$tools" && go list -m -f "{{.Version}}" k8s.io/kubernetes)
[ -n "$version" ] || { echo "cannot read the k8s.io/kubernetes version from $tools/go.mod" >&2; exit 1; }
cache=${CERTINEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/certinel}/$version
bin=$root/bin
mkdir -p "$cache" "$bin"

etcd=${ETCD:-}
if [ -z "$etcd" ]; then
  for c in "$(command -v etcd || true)" /usr/bin/etcd; do
    [ -n "$c" ] && [ -x "$c" ] && etcd=$c && break
  done
fi
if [ -z "$etcd" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing Debian's etcd-server" >&2
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends etcd-server >&2
    # the package starts a system etcd on 2379; tests start their own on free ports
    (systemctl disable --now etcd || service etcd stop || pkill -x etcd) >/dev/null 2>&1 || true
    etcd=/usr/bin/etcd
  else
    echo "etcd not found: install Debian's etcd-server (apt-get install etcd-server) or set ETCD=/path/to/etcd" >&2
    exit 1
  fi
fi
ln -sfn "$etcd" "$bin/etcd"

kube=(kube-apiserver kube-controller-manager kubectl)
missing=()
for b in "${kube[@]}"; do
  [ -x "$cache/$b" ] || missing+=("k8s.io/kubernetes/cmd/$b")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "building ${missing[*]} $version into $cache (cold build: about 15 minutes on 2 cores)" >&2
  minor=$(echo "$version" | cut -d. -f2)
  ldflags="-s -w"
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $p.gitVersion=$version -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
  done
  tmp=$(mktemp -d "$cache/.build.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tools" && CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$tmp/" "${missing[@]}")
  for p in "${missing[@]}"; do mv "$tmp/$(basename "$p")" "$cache/"; done
fi
for b in "${kube[@]}"; do ln -sfn "$cache/$b" "$bin/$b"; done
echo "$bin"
