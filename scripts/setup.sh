#!/usr/bin/env bash
# Installs everything labctl needs on a fresh Debian 12 machine (run as root):
# apt packages, the Python virtualenv with labctl and its test tools, and the
# offline bundle (built once from the package registries, cached in
# ${LABCTL_CACHE:-~/.cache/labctl}; later runs reuse it in seconds).
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\n== %s\n' "$*" >&2; }

if [ "$(id -u)" -ne 0 ]; then
  echo "error: setup installs packages and builds node filesystems: run it as root" >&2
  exit 2
fi

apt_packages=(systemd-container debootstrap mmdebstrap iptables iproute2 openssh-client zstd
  libseccomp-dev pkg-config gcc conntrack rsync redis-server ignition haproxy)
if [ -f bundle/apt-packages.txt ]; then
  mapfile -t extra < <(grep -v '^\s*#' bundle/apt-packages.txt | sed '/^\s*$/d')
  apt_packages+=("${extra[@]}")
fi
missing=()
for pkg in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  log "apt: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if ! command -v go >/dev/null 2>&1; then
  echo "error: Go 1.26+ is needed to build the offline bundle: install it (golang-go or the Go toolchain)" >&2
  exit 3
fi

if [ ! -x .venv/bin/python ]; then
  log "python: creating .venv"
  python3 -m venv .venv
fi
if ! .venv/bin/python -c 'import labctl, moto, ansiblelint' >/dev/null 2>&1 || [ pyproject.toml -nt .venv/.installed ]; then
  log "python: installing labctl and its test tools"
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -e '.[test]'
  touch .venv/.installed
fi

# What a lab needs first; a drill's own extras (the kubelet-version drill's older kubelet, about 10 of the
# first build's minutes) are built when that drill first runs, or by `labctl bundle build`.
log "bundle: building what a lab needs (incremental; the first build takes 20 to 30 minutes on 2 cores)"
.venv/bin/labctl bundle build --for up

# --test-tools (scripts/test.sh): what only the tests use. Terraform validates terraform/openstack
# offline against a provider built from the Go module proxy into a local mirror, once.
if [ "${1:-}" = "--test-tools" ]; then
  log "bundle: the rest, for the drills the tests run"
  .venv/bin/labctl bundle build
fi
if [ "${1:-}" = "--test-tools" ] && command -v terraform >/dev/null 2>&1; then
  tf_openstack=3.4.0
  mirror="${LABCTL_CACHE:-$HOME/.cache/labctl}/terraform-mirror"
  dest="$mirror/registry.terraform.io/terraform-provider-openstack/openstack/$tf_openstack/linux_amd64"
  if [ ! -x "$dest/terraform-provider-openstack_v$tf_openstack" ]; then
    log "test tools: building the Terraform OpenStack provider $tf_openstack (a few minutes, once)"
    gobin=$(mktemp -d)
    GOBIN="$gobin" GOFLAGS=-trimpath go install "github.com/terraform-provider-openstack/terraform-provider-openstack/v3@v$tf_openstack"
    mkdir -p "$dest"
    mv "$gobin/terraform-provider-openstack" "$dest/terraform-provider-openstack_v$tf_openstack"
    rmdir "$gobin"
  fi
fi
