# METADATA
# title: Certificate rules (KD-CRT-001..014)
# description: |
#   Expiry, validity length, key strength, curve and signature of X.509 certificates; revocation
#   pointers and names; trust and name of the chain a TLS endpoint presents. The rules that compare
#   a certificate with others (KD-CRT-008..010) are in relations.rego.
package keydrift.certificates

import data.keydrift.lib

# Revoked or destroyed certificates no longer serve anyone: their expiry is not a risk.
judged(item) if {
	item.kind == "certificate"
	not item.state in {"disabled", "destroyed"}
	is_object(item.certificate)
	lib.known(item._t.notBefore)
	lib.known(item._t.notAfter)
}

expired(item) if input.now_s > item._t.notAfter

seconds_left(item) := item._t.notAfter - input.now_s

# A trust anchor as RFC 5280 treats one: a self-signed certificate that is a CA, or a self-signed
# X.509 v1/v2 certificate, which cannot carry basicConstraints at all (4.1.2.9) and is a CA only
# "through out-of-band means" (6.1.4 (k)), such as being placed in a trust store. A path starts
# after it (6.1: "this self-signed certificate is not included as part of the prospective
# certification path"), so its own signature and validity length are never checked. A self-signed
# v3 certificate without cA is a leaf: its key "MUST NOT be used to verify certificate signatures"
# (4.2.1.9).
trust_anchor(item) if {
	item.certificate.selfSigned == true
	item.certificate.isCA == true
}

trust_anchor(item) if {
	item.certificate.selfSigned == true
	item.certificate.version in {1, 2}
}

# An end-entity certificate: neither a CA nor a trust anchor.
leaf(item) if {
	not item.certificate.isCA
	not trust_anchor(item)
}

# KD-CRT-001: the certificate is past notAfter.
findings contains lib.rule_finding("KD-CRT-001", item, {
	"notAfter": item.certificate.notAfter,
	"daysExpired": lib.whole_days(input.now_s - item._t.notAfter),
}) if {
	some item in input.items
	judged(item)
	expired(item)
}

# KD-CRT-002: notAfter is within the warning window (the default severity) or the failing window
# (level "fail" of its severityLevels): expiry.warnDays and expiry.failDays, or, where the settings
# give a fraction, that fraction of the certificate's lifetime in whole days (rounded up), at least
# the floor and at most the fixed days.
findings contains lib.rule_finding_at("KD-CRT-002", item, expiry_level(item), {
	"notAfter": item.certificate.notAfter,
	"daysLeft": lib.whole_days(seconds_left(item)),
	"warnDays": warn_days(item),
	"failDays": fail_days(item),
}) if {
	some item in input.items
	judged(item)
	not expired(item)

	# The scaled window is never longer than warnDays: a cheap test first.
	seconds_left(item) <= lib.settings(item).expiry.warnDays * lib.day_s
	seconds_left(item) <= warn_days(item) * lib.day_s
}

expiry_level(item) := "fail" if {
	seconds_left(item) <= fail_days(item) * lib.day_s
} else := "default"

warn_days(item) := window_days(item, expiry.warnDays, object.get(expiry, "warnFraction", 0), object.get(expiry, "warnFloorDays", 0)) if {
	expiry := lib.settings(item).expiry
}

fail_days(item) := window_days(item, expiry.failDays, object.get(expiry, "failFraction", 0), object.get(expiry, "failFloorDays", 0)) if {
	expiry := lib.settings(item).expiry
}

# A renewal is due after a fixed share of the lifetime (Let's Encrypt: when a third is left), so
# a 47-day certificate is not "expiring soon" for most of its life.
window_days(item, fixed, fraction, floor) := fixed if {
	fraction <= 0
} else := min([fixed, max([floor, ceil((fraction * validity_s(item)) / lib.day_s)])])

# KD-CRT-003: a leaf valid for longer than allowed. Validity counts notBefore through notAfter
# inclusive (CA/B Forum BR 6.3.2), hence the extra second.
findings contains lib.rule_finding("KD-CRT-003", item, {
	"notBefore": item.certificate.notBefore,
	"notAfter": item.certificate.notAfter,
	"validityDays": lib.days_rounded_up(validity_s(item)),
	"maxValidityDays": validity_limit(item).days,
	"limitSource": validity_limit(item).source,
}) if {
	some item in input.items
	judged(item)
	leaf(item)
	validity_s(item) > validity_limit(item).days * lib.day_s
}

validity_s(item) := (item._t.notAfter - item._t.notBefore) + 1

# With a schedule (profile public-tls), the latest step in force at notBefore sets the limit.
validity_limit(item) := {"days": step.maxDays, "source": "cab-forum-schedule"} if {
	steps := [step | some step in lib.settings(item).certificates.validitySchedule; step.from_s <= item._t.notBefore]
	count(steps) > 0
	latest := max({step.from_s | some step in steps})
	some step in steps
	step.from_s == latest
} else := {"days": lib.settings(item).certificates.maxValidityDays, "source": "settings"}

# KD-CRT-003 for an issuing template: a PKI role whose max TTL lets it issue certificates longer
# than the limit in force now (collectors put the effective maximum in evidence.roleMaxTtlSeconds).
findings contains object.union(
	lib.rule_finding("KD-CRT-003", item, {
		"validityDays": lib.days_rounded_up(item.evidence.roleMaxTtlSeconds),
		"maxValidityDays": limit.days,
		"limitSource": limit.source,
		"role": item.evidence.pkiRole,
	}),
	{"message": concat("", [
		"PKI role ", item.evidence.pkiRole, " (", item.location, ") can issue certificates valid for up to ",
		format_int(lib.days_rounded_up(item.evidence.roleMaxTtlSeconds), 10), " days; the limit is ",
		format_int(limit.days, 10), " days (", limit.source, ").",
	])},
) if {
	some item in input.items
	item.kind == "certificate"
	is_string(item.evidence.pkiRole)
	is_number(item.evidence.roleMaxTtlSeconds)
	limit := validity_limit(object.union(item, {"_t": {"notBefore": input.now_s}}))
	item.evidence.roleMaxTtlSeconds > limit.days * lib.day_s
}

# A certificate declared in infrastructure code (a cert-manager Certificate) and not issued yet:
# no notBefore or notAfter, but the key and the validity every issued certificate will have.
declared_certificate(item) if {
	item.kind == "certificate"
	item.declared == true
	item.certificate == null
	not item.state in {"disabled", "destroyed"}
}

# KD-CRT-003 for a declared certificate: the validity it asks for (evidence.durationSeconds) against
# the limit in force now. A CA certificate (evidence.isCA) is not a leaf.
findings contains object.union(
	lib.rule_finding("KD-CRT-003", item, {
		"validityDays": lib.days_rounded_up(item.evidence.durationSeconds),
		"maxValidityDays": limit.days,
		"limitSource": limit.source,
		"duration": item.evidence.duration,
	}),
	{"message": concat("", [
		"Certificate ", item.name, " (", item.location, ") is declared valid for ",
		format_int(lib.days_rounded_up(item.evidence.durationSeconds), 10), " days; the limit is ",
		format_int(limit.days, 10), " days (", limit.source, ").",
	])},
) if {
	some item in input.items
	declared_certificate(item)
	is_number(item.evidence.durationSeconds)
	not item.evidence.isCA == true
	limit := validity_limit(object.union(item, {"_t": {"notBefore": input.now_s}}))
	item.evidence.durationSeconds > limit.days * lib.day_s
}

# KD-CRT-004: the certificate's key is below the minimum for its type in force when its strength
# must hold (lib.min_bits_at, shared with KD-ALG-002). Unknown size is not judged.
findings contains lib.rule_finding("KD-CRT-004", item, {
	"keyType": item.keyType,
	"keySize": item.keySize,
	"minBits": floor.bits,
	"minBitsFrom": floor.from,
	"judgedAt": lib.strength_judged_at(item),
}) if {
	some item in input.items
	key_judged(item)
	is_number(item.keySize)
	floor := lib.min_bits_at(item, lib.strength_instant(item))
	item.keySize < floor.bits
}

# A declared certificate's key is known before it is issued.
key_judged(item) if judged(item)

key_judged(item) if declared_certificate(item)

# KD-CRT-005: MD5 or SHA-1 (any hash in certificates.weakSignatureHashes) signs a certificate
# that is not a trust anchor, whose own signature relying parties never check; a signature
# algorithm keydrift cannot name (UNKNOWN:<oid>) is reported too, at level "unrecognised", so a
# weak or broken algorithm never passes because it is unknown.
findings contains lib.rule_finding_at("KD-CRT-005", item, level, {"signatureAlgorithm": item.certificate.signatureAlgorithm}) if {
	some item in input.items
	judged(item)
	not trust_anchor(item)
	level := signature_level(item)
}

signature_level(item) := "default" if {
	weak_hash(item)
} else := "unrecognised" if {
	contains(item.certificate.signatureAlgorithm, "UNKNOWN:")
}

weak_hash(item) if {
	parts := split(item.certificate.signatureAlgorithm, "-")
	parts[count(parts) - 1] in lib.settings(item).certificates.weakSignatureHashes
}

# KD-CRT-006 and KD-CRT-007 judge what a TLS endpoint serves, recorded on its leaf (chainIndex 0)
# by the collector: evidence.trust and evidence.hostname. null there means not judged.
endpoint_leaf(item) if {
	judged(item)
	item.provider == "tls-endpoint"
	item.evidence.chainIndex == 0
}

# KD-CRT-006: the presented chain does not verify to a root of the configured trust store.
findings contains lib.rule_finding("KD-CRT-006", item, {
	"trustStore": item.evidence.trust.store,
	"verifyError": verify_error(item),
	"reason": chain_failure(verify_error(item)),
}) if {
	some item in input.items
	endpoint_leaf(item)
	item.evidence.trust.verified == false
}

verify_error(item) := item.evidence.trust.error if {
	is_string(item.evidence.trust.error)
} else := "UNSPECIFIED"

# OpenSSL could not find the issuer of some certificate, neither presented nor in the store: a
# missing intermediate, or a CA the store does not hold. Every other error means not trusted.
issuer_not_found := {"UNABLE_TO_GET_ISSUER_CERT", "UNABLE_TO_GET_ISSUER_CERT_LOCALLY", "UNABLE_TO_VERIFY_LEAF_SIGNATURE"}

chain_failure(code) := "incomplete" if {
	code in issuer_not_found
} else := "untrusted"

# KD-CRT-007: the leaf is not valid for the name the scan asked for (servername, else host).
findings contains lib.rule_finding("KD-CRT-007", item, {
	"expectedName": item.evidence.hostname.expected,
	"sans": object.get(item.certificate, "sans", []),
	"mismatch": mismatch_detail(item),
}) if {
	some item in input.items
	endpoint_leaf(item)
	item.evidence.hostname.matches == false
}

mismatch_detail(item) := item.evidence.hostname.error if {
	is_string(item.evidence.hostname.error)
} else := "no subject alternative name matches"

# KD-CRT-011: a leaf issued by a subordinate CA (an issuer certificate in the inventory that is
# not self-signed) that says nowhere where its revocation status is published: no CRL
# distribution point and no OCSP responder. Exempt: the noRevAvail extension (RFC 9608: no
# revocation information will be published) and Short-lived Subscriber Certificates (BR 1.6.1),
# for which the BRs make both optional. An issuer the inventory does not hold is unknown.
findings contains lib.rule_finding("KD-CRT-011", item, {"issuer": item.certificate.issuer}) if {
	some item in input.items
	count(item.certificate.crlDistributionPoints) == 0
	count(item.certificate.ocspUrls) == 0
	item.certificate.noRevocationAvailable == false
	judged(item)
	leaf(item)
	item.certificate.selfSigned == false
	not expired(item)
	issued_by_subordinate_ca(item)
	not short_lived(item)
}

# BR 1.6.1: a Subscriber Certificate valid at most 10 days (864,000 s) if issued from 2024-03-15
# and before 2026-03-15, at most 7 days (604,800 s) from 2026-03-15; notBefore stands in for the
# issuance date, as for KD-CRT-003.
short_lived(item) if {
	not item.certificate.isCA
	validity_s(item) <= short_lived_limit_s(item)
}

short_lived_limit_s(item) := 604800 if {
	item._t.notBefore >= 1773532800
} else := 864000 if {
	item._t.notBefore >= 1710460800
}

# KD-CRT-012: an end-entity certificate whose names include a wildcard (a DNS SAN, or the CN of a
# certificate without DNS SANs, which is where older clients look).
findings contains lib.rule_finding("KD-CRT-012", item, {"wildcardNames": names}) if {
	some item in input.items
	names := wildcard_names(item)
	judged(item)
	not item.certificate.isCA
}

wildcard_names(item) := names if {
	# One native test before walking the names: most certificates have no "*" at all.
	contains(concat(" ", item.certificate.sans), "*")
	names := [substring(san, 4, -1) | some san in item.certificate.sans; startswith(san, "DNS:"); contains(san, "*")]
	count(names) > 0
} else := [cn] if {
	cn := item.certificate.commonName
	is_string(cn)
	contains(cn, "*")
	not dns_san(item)
}

dns_san(item) if {
	some san in item.certificate.sans
	startswith(san, "DNS:")
}

# KD-CRT-013: a server certificate that names its host only in the subject CN: no DNS or IP
# subjectAltName. RFC 9525 2: "The Common Name RDN MUST NOT be used to identify a service".
findings contains lib.rule_finding("KD-CRT-013", item, {"commonName": item.certificate.commonName}) if {
	some item in input.items
	is_string(item.certificate.commonName)
	judged(item)
	leaf(item)
	not dns_san(item)
	not ip_san(item)
	server_capable(item)
}

ip_san(item) if {
	some san in item.certificate.sans
	startswith(san, "IP Address:")
}

# No extKeyUsage means any purpose (RFC 5280 4.2.1.12); otherwise serverAuth or anyExtendedKeyUsage.
server_capable(item) if item.certificate.extendedKeyUsage == null

server_capable(item) if {
	some purpose in item.certificate.extendedKeyUsage
	purpose in {"1.3.6.1.5.5.7.3.1", "2.5.29.37.0"}
}

# KD-CRT-014: the certificate key is on an elliptic curve certificates.allowedCurves does not list
# (empty, the default, judges no curve; profile public-tls lists BR 6.1.5's P-256, P-384, P-521).
findings contains lib.rule_finding("KD-CRT-014", item, {"curve": item.curve, "allowedCurves": allowed}) if {
	some item in input.items
	is_string(item.curve)
	item.kind == "certificate"
	allowed := object.get(lib.settings(item).certificates, "allowedCurves", [])
	count(allowed) > 0
	not item.curve in allowed
	judged(item)
}
