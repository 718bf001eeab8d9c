#!/usr/bin/env bash
# Regenerates the demo certificate estate in examples/demo/certs/.
#
#   bash examples/demo/generate.sh
#
# Uses only the `openssl` 3.x command line. Every date is explicit, so the findings against the
# fixed demo clock (--now 2026-11-01T00:00:00Z) are always the same; the keys (and therefore
# signatures and SHA-256 fingerprints) change on every run. Serial numbers are sequential from 0x1001.
#
# OpenSSL 3.0's `x509`/`req` cannot set an explicit notBefore (-not_before only exists in later 3.x releases),
# so every certificate, self-signed roots included, is issued with `openssl ca -startdate
# -enddate` from a throwaway CA config. Private keys live only in a temporary directory that
# is removed on exit; only certificates are written to certs/.
set -euo pipefail
export LC_ALL=C

OPENSSL=${OPENSSL:-openssl}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT="$HERE/certs"

case "$("$OPENSSL" version)" in
  "OpenSSL 3."*) ;;
  *) echo "generate.sh: needs OpenSSL 3.x, found: $("$OPENSSL" version)" >&2; exit 2 ;;
esac

WORK=$(mktemp -d "${TMPDIR:-/tmp}/keydrift-demo.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
umask 077

CA_DIR="$WORK/ca"
KEYS="$WORK/keys"
STAGE="$WORK/certs"
mkdir -p "$CA_DIR/newcerts" "$KEYS" "$STAGE"/{pki,web,legacy,bundles}
: >"$CA_DIR/index.txt"
echo 1001 >"$CA_DIR/serial"

# Minimal throwaway config: one CA section, a permissive policy, an empty request DN section.
CONF="$WORK/openssl.cnf"
cat >"$CONF" <<EOF
[ ca ]
default_ca = demo_ca

[ demo_ca ]
database        = $CA_DIR/index.txt
new_certs_dir   = $CA_DIR/newcerts
serial          = $CA_DIR/serial
default_md      = sha256
policy          = policy_any
unique_subject  = no
email_in_dn     = no
copy_extensions = none

[ policy_any ]
countryName            = optional
stateOrProvinceName    = optional
localityName           = optional
organizationName       = optional
organizationalUnitName = optional
commonName             = supplied

[ req ]
distinguished_name = req_dn
prompt             = no

[ req_dn ]
CN = placeholder
EOF

# genkey NAME rsa BITS | genkey NAME ec CURVE
genkey() {
  local name=$1 type=$2 param=$3
  case "$type" in
    rsa) "$OPENSSL" genpkey -quiet -algorithm RSA -pkeyopt "rsa_keygen_bits:$param" -out "$KEYS/$name.key" ;;
    ec)  "$OPENSSL" genpkey -quiet -algorithm EC -pkeyopt "ec_paramgen_curve:$param" \
           -pkeyopt ec_param_enc:named_curve -out "$KEYS/$name.key" ;;
  esac
}

# extfile NAME KIND [SAN...]  (KIND: root | intermediate | leaf-rsa | leaf-ec)
extfile() {
  local name=$1 kind=$2; shift 2
  local f="$WORK/$name.ext"
  {
    echo "[ ext ]"
    echo "subjectKeyIdentifier = hash"
    case "$kind" in
      root)
        echo "basicConstraints = critical, CA:TRUE"
        echo "keyUsage = critical, keyCertSign, cRLSign" ;;
      intermediate)
        echo "authorityKeyIdentifier = keyid:always"
        echo "basicConstraints = critical, CA:TRUE, pathlen:0"
        echo "keyUsage = critical, keyCertSign, cRLSign" ;;
      leaf-rsa|leaf-ec)
        echo "authorityKeyIdentifier = keyid:always"
        echo "basicConstraints = critical, CA:FALSE"
        if [ "$kind" = leaf-rsa ]; then
          echo "keyUsage = critical, digitalSignature, keyEncipherment"
        else
          echo "keyUsage = critical, digitalSignature"
        fi
        echo "extendedKeyUsage = serverAuth"
        if [ $# -gt 0 ]; then
          local san="" d
          for d in "$@"; do san="${san:+$san, }DNS:$d"; done
          echo "subjectAltName = $san"
        fi ;;
    esac
  } >"$f"
  echo "$f"
}

# issue NAME SUBJECT ISSUER(name|self) START END MD KIND [SAN...]  -> $WORK/NAME.pem
# START/END are YYYYMMDDHHMMSSZ; OpenSSL encodes them as UTCTime (dates before 2050).
issue() {
  local name=$1 subject=$2 issuer=$3 start=$4 end=$5 md=$6 kind=$7; shift 7
  local ext
  ext=$(extfile "$name" "$kind" "$@")
  "$OPENSSL" req -new -config "$CONF" -key "$KEYS/$name.key" -subj "$subject" -out "$WORK/$name.csr"
  local signer=()
  if [ "$issuer" = self ]; then
    signer=(-selfsign -keyfile "$KEYS/$name.key")
  else
    signer=(-cert "$WORK/$issuer.pem" -keyfile "$KEYS/$issuer.key")
  fi
  "$OPENSSL" ca -batch -notext -preserveDN -config "$CONF" "${signer[@]}" \
    -in "$WORK/$name.csr" -out "$WORK/$name.pem" \
    -startdate "$start" -enddate "$end" -md "$md" \
    -extfile "$ext" -extensions ext 2>"$WORK/$name.ca.log" \
    || { cat "$WORK/$name.ca.log" >&2; exit 1; }
}

O="/C=US/O=Example Corp"

# --- internal PKI -------------------------------------------------------------------------
genkey root-ca rsa 4096
issue  root-ca "$O/OU=PKI/CN=Example Corp Root CA 2020" self \
       20200101000000Z 20350101000000Z sha256 root

genkey issuing-ca ec P-384
issue  issuing-ca "$O/OU=PKI/CN=Example Corp Issuing CA 1" root-ca \
       20200101000000Z 20320101000000Z sha256 intermediate

# --- web leaves (issued by the intermediate) ----------------------------------------------
genkey shop ec P-256                       # healthy, 90 days
issue  shop "$O/CN=shop.example.com" issuing-ca \
       20261001000000Z 20261230000000Z sha256 leaf-ec shop.example.com www.shop.example.com

genkey api-expired rsa 2048                # expired 2026-10-15
issue  api-expired "$O/CN=api.example.com" issuing-ca \
       20260717000000Z 20261015000000Z sha256 leaf-rsa api.example.com

genkey payments ec P-256                   # 4 days left at 2026-11-01: high
issue  payments "$O/CN=payments.example.com" issuing-ca \
       20260807000000Z 20261105000000Z sha256 leaf-ec payments.example.com

genkey status rsa 2048                     # 19 days left at 2026-11-01: medium
issue  status "$O/CN=status.example.com" issuing-ca \
       20260822000000Z 20261120000000Z sha256 leaf-rsa status.example.com

genkey cdn ec P-256                        # 300 days from 2026-04-01: over the CA/B 200-day limit
issue  cdn "$O/CN=cdn.example.com" issuing-ca \
       20260401000000Z 20270126000000Z sha256 leaf-ec cdn.example.com static.example.com

# --- legacy -------------------------------------------------------------------------------
genkey vpn rsa 1024                        # weak key, otherwise valid
issue  vpn "$O/OU=Network/CN=vpn.example.internal" issuing-ca \
       20260115000000Z 20270115000000Z sha256 leaf-rsa vpn.example.internal

genkey intranet rsa 3072                   # 5-year validity
issue  intranet "$O/OU=IT/CN=intranet.example.internal" issuing-ca \
       20250101000000Z 20291231000000Z sha256 leaf-rsa intranet.example.internal

# A partner's legacy SHA-1 root (self-signed: exempt from the SHA-1 rule) and a SHA-1 leaf it
# issued (flagged). OpenSSL 3.0 signs SHA-1 at the command line without any security-level
# change; security levels only constrain TLS handshakes.
PO="/C=GB/O=Example Partner Ltd"
genkey partner-root rsa 2048
issue  partner-root "$PO/CN=Example Partner Legacy Root CA" self \
       20150101000000Z 20301231000000Z sha1 root

genkey partner-sha1 rsa 2048
issue  partner-sha1 "$PO/CN=gateway.partner.example.net" partner-root \
       20260601000000Z 20270601000000Z sha1 leaf-rsa gateway.partner.example.net

# --- partner bundle (PKCS#7) --------------------------------------------------------------
genkey partner-a ec P-256                  # healthy, 181 days
issue  partner-a "$O/OU=Partners/CN=partner-a.example.org" issuing-ca \
       20260901000000Z 20270301000000Z sha256 leaf-ec partner-a.example.org

genkey partner-b rsa 2048                  # 27 days left at 2026-11-01: medium
issue  partner-b "$O/OU=Partners/CN=partner-b.example.org" issuing-ca \
       20260830000000Z 20261128000000Z sha256 leaf-rsa partner-b.example.org

# --- write the estate ----------------------------------------------------------------------
pem() { "$OPENSSL" x509 -in "$WORK/$1.pem" -outform PEM; }

pem root-ca                      >"$STAGE/pki/root-ca.pem"
pem issuing-ca                   >"$STAGE/pki/issuing-ca.pem"
{ pem shop; pem issuing-ca; }    >"$STAGE/web/shop-fullchain.pem"
pem api-expired                  >"$STAGE/web/api-expired.pem"
pem payments                     >"$STAGE/web/payments-expiring.pem"
pem status                       >"$STAGE/web/status-expiring.pem"
pem cdn                          >"$STAGE/web/cdn-200d.pem"
pem vpn                          >"$STAGE/legacy/vpn-rsa1024.pem"
pem partner-sha1                 >"$STAGE/legacy/partner-sha1.pem"
pem partner-root                 >"$STAGE/legacy/selfsigned-root-sha1.pem"
"$OPENSSL" x509 -in "$WORK/intranet.pem" -outform DER -out "$STAGE/legacy/intranet-5y.der"
# PEM-armoured PKCS#7 ("-----BEGIN PKCS7-----"), certificates only, no CRL.
"$OPENSSL" crl2pkcs7 -nocrl -certfile "$WORK/partner-a.pem" -certfile "$WORK/partner-b.pem" \
  -outform PEM -out "$STAGE/bundles/partners.p7b"

# Replace the previous estate in one step (idempotent: same file set every run).
umask 022
rm -rf "$OUT"
cp -R "$STAGE" "$OUT"
find "$OUT" -type d -exec chmod 0755 {} +
find "$OUT" -type f -exec chmod 0644 {} +

echo "generate.sh: wrote $(find "$OUT" -type f | wc -l | tr -d ' ') files to ${OUT#"$PWD"/}" >&2
