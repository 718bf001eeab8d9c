#!/usr/bin/env bash
# Installs Prowler (pinned) in a Python venv in the keydrift tool cache, idempotently, for the
# optional side-by-side comparison in bench/prowler-compare.ts (docs/prowler-comparison.md).
# Not part of scripts/provision.sh or `npm test`: no test needs Prowler, and it is a large install
# (hundreds of Python packages, ~8 minutes on 2 cores, ~2.3 GiB).
set -euo pipefail

PROWLER_VERSION="5.46.0"
TOOLS_DIR="${KEYDRIFT_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/keydrift-tools}"
PROWLER_DIR="$TOOLS_DIR/prowler-$PROWLER_VERSION"

say() { printf 'prowler-venv: %s\n' "$*" >&2; }

apt_install() {
  if [ "$(id -u)" != 0 ]; then
    say "missing $* and not root: install it with apt-get (Debian package: $*)"
    exit 1
  fi
  say "installing $* with apt-get"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# A venv made where it stays (its console scripts hard-code its path, so it is never built elsewhere
# and moved). `.complete` is written last: a venv without it is half-built and redone.
prowler_ready() {
  [ -f "$PROWLER_DIR/.complete" ] && [ -x "$PROWLER_DIR/bin/prowler" ] &&
    "$PROWLER_DIR/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('prowler') != '$PROWLER_VERSION')" 2>/dev/null
}

if ! prowler_ready; then
  command -v python3 >/dev/null 2>&1 || apt_install python3 python3-venv
  # Prowler 5.46.0 declares Requires-Python >=3.10,<3.14.
  python3 -c 'import sys; sys.exit(not ((3, 10) <= sys.version_info[:2] < (3, 14)))' ||
    { say "Prowler $PROWLER_VERSION needs Python 3.10 to 3.13; python3 is $(python3 -V 2>&1)"; exit 1; }
  if [ -e "$PROWLER_DIR" ]; then
    say "removing the incomplete Prowler venv at $PROWLER_DIR"
    rm -rf "$PROWLER_DIR"
  fi
  say "installing prowler $PROWLER_VERSION in a venv (once, a few minutes; cached in $PROWLER_DIR)"
  if ! python3 -m venv "$PROWLER_DIR" >/dev/null 2>&1; then
    rm -rf "$PROWLER_DIR"
    apt_install python3-venv
    python3 -m venv "$PROWLER_DIR"
  fi
  "$PROWLER_DIR/bin/python" -m pip install --quiet --disable-pip-version-check "prowler==$PROWLER_VERSION"
  touch "$PROWLER_DIR/.complete"
fi
prowler_ready || { say "$PROWLER_DIR does not hold prowler $PROWLER_VERSION"; exit 1; }
say "prowler $PROWLER_VERSION ready at $PROWLER_DIR/bin/prowler"
