#!/usr/bin/env bash
# Lints the example GitHub workflows (examples/workflows/*.yml, and .github/workflows/ when the repository
# has one) with the pinned actionlint that scripts/provision.sh installs, running shellcheck on every
# `run:` script. Exits non-zero on any problem, or when either tool is missing.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"

say() { printf 'lint-workflows: %s\n' "$*" >&2; }

# The version is provision.sh's, so the two cannot drift apart.
ACTIONLINT_VERSION="$(sed -n 's/^ACTIONLINT_VERSION="\(.*\)"$/\1/p' scripts/provision.sh)"
[ -n "$ACTIONLINT_VERSION" ] || { say "no ACTIONLINT_VERSION in scripts/provision.sh"; exit 2; }
TOOLS_DIR="${KEYDRIFT_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/keydrift-tools}"
ACTIONLINT="$TOOLS_DIR/actionlint-$ACTIONLINT_VERSION/actionlint"

[ -x "$ACTIONLINT" ] || { say "actionlint $ACTIONLINT_VERSION is missing at $ACTIONLINT: run bash scripts/provision.sh"; exit 2; }
# Without shellcheck actionlint silently skips the `run:` scripts: insist on it.
SHELLCHECK="$(command -v shellcheck || true)"
[ -n "$SHELLCHECK" ] || { say "shellcheck is missing (actionlint would skip every run: script): run bash scripts/provision.sh"; exit 2; }

shopt -s nullglob
files=(examples/workflows/*.yml examples/workflows/*.yaml .github/workflows/*.yml .github/workflows/*.yaml)
[ "${#files[@]}" -gt 0 ] || { say "no workflow files found"; exit 2; }

# -pyflakes= : no workflow runs Python; disabled so that results do not depend on what else is installed.
"$ACTIONLINT" -no-color -shellcheck "$SHELLCHECK" -pyflakes= "${files[@]}"
say "${#files[@]} workflow files clean (actionlint $ACTIONLINT_VERSION, $("$SHELLCHECK" --version | sed -n 's/^version: /shellcheck /p'))"
