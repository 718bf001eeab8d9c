#!/usr/bin/env bash
# Installs the tools the tests need, outside the repository, idempotently:
#   - opa (pinned) with `go install`, into the keydrift tool cache;
#   - moto (pinned; the AWS emulator of the integration tests) in a Python venv in that cache;
#   - local-kms (pinned; a second KMS emulator) with `go install`, into that cache;
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
# Captured first: `opa version | head -1` under pipefail fails whenever head exits before opa's last write (SIGPIPE).
OPA_REPORTED="$("$OPA_DIR/opa" version)"
grep -q "^Version: ${OPA_VERSION#v}\$" <<<"$OPA_REPORTED" || { say "$OPA_DIR/opa is not $OPA_VERSION"; exit 1; }
say "opa $OPA_VERSION ready at $OPA_DIR/opa"

need_go() {
  if ! command -v go >/dev/null 2>&1; then
    say "Go is needed to build $1 (go install); install Go 1.24 or newer"
    exit 1
  fi
}

# moto: a venv made where it stays (a venv's console scripts hard-code its path, so it is never
# built elsewhere and moved). `.complete` is written last: a venv without it is half-built and redone.
MOTO_VERSION="5.2.5"
MOTO_DIR="$TOOLS_DIR/moto-$MOTO_VERSION"

moto_ready() {
  [ -f "$MOTO_DIR/.complete" ] &&
    "$MOTO_DIR/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('moto') != '$MOTO_VERSION')" 2>/dev/null
}

if ! moto_ready; then
  command -v python3 >/dev/null 2>&1 || apt_install python3 python3-venv
  if [ -e "$MOTO_DIR" ]; then
    say "removing the incomplete moto venv at $MOTO_DIR"
    rm -rf "$MOTO_DIR"
  fi
  say "installing moto $MOTO_VERSION in a venv (once; cached in $MOTO_DIR)"
  if ! python3 -m venv "$MOTO_DIR" >/dev/null 2>&1; then
    rm -rf "$MOTO_DIR"
    apt_install python3-venv
    python3 -m venv "$MOTO_DIR"
  fi
  "$MOTO_DIR/bin/python" -m pip install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION"
  touch "$MOTO_DIR/.complete"
fi
moto_ready || { say "$MOTO_DIR does not hold moto $MOTO_VERSION"; exit 1; }
say "moto $MOTO_VERSION ready at $MOTO_DIR (python -m moto.server)"

LOCAL_KMS_VERSION="v0.0.0-20260228092603-2a5e92d09ab6"
LOCAL_KMS_DIR="$TOOLS_DIR/local-kms-${LOCAL_KMS_VERSION##*-}"

if [ ! -x "$LOCAL_KMS_DIR/local-kms" ]; then
  need_go "local-kms $LOCAL_KMS_VERSION"
  say "building local-kms $LOCAL_KMS_VERSION with go install (once; cached in $LOCAL_KMS_DIR)"
  mkdir -p "$LOCAL_KMS_DIR.partial"
  GOBIN="$LOCAL_KMS_DIR.partial" GOFLAGS=-mod=mod go install "github.com/nsmithuk/local-kms@$LOCAL_KMS_VERSION"
  rm -rf "$LOCAL_KMS_DIR"
  mv "$LOCAL_KMS_DIR.partial" "$LOCAL_KMS_DIR"
fi
if command -v go >/dev/null 2>&1; then
  LOCAL_KMS_BUILD="$(go version -m "$LOCAL_KMS_DIR/local-kms")"
  grep -Eq "^[[:space:]]*mod[[:space:]]+github.com/nsmithuk/local-kms[[:space:]]+$LOCAL_KMS_VERSION([[:space:]]|\$)" <<<"$LOCAL_KMS_BUILD" ||
    { say "$LOCAL_KMS_DIR/local-kms is not local-kms $LOCAL_KMS_VERSION"; exit 1; }
fi
say "local-kms $LOCAL_KMS_VERSION ready at $LOCAL_KMS_DIR/local-kms"
