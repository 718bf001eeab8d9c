# METADATA
# title: Certificate rules (KD-CRT-001..007)
# description: |
#   Expiry, validity length, key strength and signature hash of X.509 certificates; trust and
#   name of the chain a TLS endpoint presents.
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

# KD-CRT-001: the certificate is past notAfter.
findings contains lib.rule_finding("KD-CRT-001", item, {
	"notAfter": item.certificate.notAfter,
	"daysExpired": lib.whole_days(input.now_s - item._t.notAfter),
}) if {
	some item in input.items
	judged(item)
	expired(item)
}

# KD-CRT-002: notAfter is within expiry.warnDays (the default severity) or expiry.failDays (level
# "fail" of its severityLevels).
findings contains lib.rule_finding_at("KD-CRT-002", item, expiry_level(item), {
	"notAfter": item.certificate.notAfter,
	"daysLeft": lib.whole_days(seconds_left(item)),
	"warnDays": lib.settings(item).expiry.warnDays,
	"failDays": lib.settings(item).expiry.failDays,
}) if {
	some item in input.items
	judged(item)
	not expired(item)
	seconds_left(item) <= lib.settings(item).expiry.warnDays * lib.day_s
}

expiry_level(item) := "fail" if {
	seconds_left(item) <= lib.settings(item).expiry.failDays * lib.day_s
} else := "default"

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
	not item.certificate.isCA
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

# KD-CRT-004: the certificate's key is below algorithms.minBits for its type. Unknown size is not judged.
findings contains lib.rule_finding("KD-CRT-004", item, {
	"keyType": item.keyType,
	"keySize": item.keySize,
	"minBits": min_bits,
}) if {
	some item in input.items
	judged(item)
	is_number(item.keySize)
	min_bits := lib.settings(item).algorithms.minBits[item.keyType]
	item.keySize < min_bits
}

# KD-CRT-005: MD5 or SHA-1 (any hash in certificates.weakSignatureHashes) signs a certificate
# that is not a self-signed root; a root's own signature is never checked by relying parties.
findings contains lib.rule_finding("KD-CRT-005", item, {"signatureAlgorithm": item.certificate.signatureAlgorithm}) if {
	some item in input.items
	judged(item)
	weak_hash(item)
	not self_signed_root(item)
}

weak_hash(item) if {
	parts := split(item.certificate.signatureAlgorithm, "-")
	parts[count(parts) - 1] in lib.settings(item).certificates.weakSignatureHashes
}

self_signed_root(item) if {
	item.certificate.selfSigned
	item.certificate.isCA
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
