#!/usr/bin/env bash
# Installs the tools the tests need, outside the repository, idempotently:
#   - opa (pinned) with `go install`, into the keydrift tool cache;
#   - openssl (the tests generate certificates with it), from Debian's packages if missing.
# Node 24, the SARIF Multitool and the npm libraries come from `npm ci` (package.json).
set -euo pipefail

OPA_VERSION="v1.22.3"
TOOLS_DIR="${KEYDRIFT_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/keydrift-tools}"
OPA_DIR="$TOOLS_DIR/opa-$OPA_VERSION"

say() { printf 'provision: %s\n' "$*" >&2; }

apt_install() {
  if [ "$(id -u)" != 0 ]; then
    say "missing $* and not root: install it with apt-get (Debian package: $*)"
    exit 1
  fi
  say "installing $* with apt-get"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

command -v openssl >/dev/null 2>&1 || apt_install openssl

if [ ! -x "$OPA_DIR/opa" ]; then
  if ! command -v go >/dev/null 2>&1; then
    say "Go is needed to build opa $OPA_VERSION (go install); install Go 1.24 or newer"
    exit 1
  fi
  say "building opa $OPA_VERSION with go install (once; cached in $OPA_DIR)"
  mkdir -p "$OPA_DIR.partial"
  GOBIN="$OPA_DIR.partial" GOFLAGS=-mod=mod go install "github.com/open-policy-agent/opa@$OPA_VERSION"
  rm -rf "$OPA_DIR"
  mv "$OPA_DIR.partial" "$OPA_DIR"
fi
"$OPA_DIR/opa" version | head -1 | grep -q "${OPA_VERSION#v}" || { say "$OPA_DIR/opa is not $OPA_VERSION"; exit 1; }
say "opa $OPA_VERSION ready at $OPA_DIR/opa"
