# Certificate rules that compare certificates (KD-CRT-008..010): a certificate that outlives its
# issuer, a delivered chain without the leaf's issuer, a key pair certified again at renewal. The
# engine evaluates items in batches, so it passes an index of the whole inventory as
# data.certificateIndex (src/certificates/relations.ts, grouping only); without it (opa eval, unit
# tests) the same index is built here from input.items.
package keydrift.certificates

import data.keydrift.lib

index := data.certificateIndex if {
	is_object(data.certificateIndex)
} else := {
	"issuers": issuer_groups,
	"publicKeys": key_groups,
	"chains": chain_groups,
}

certificate_item(item) if {
	item.kind == "certificate"
	is_object(item.certificate)
}

named_issuers contains item.certificate.issuer if {
	some item in input.items
	certificate_item(item)
	item.certificate.selfSigned == false
}

# Certificates by subject, for the subjects some certificate names as its issuer.
issuer_groups[subject] contains summary(item) if {
	some item in input.items
	certificate_item(item)
	subject := item.certificate.subject
	subject in named_issuers
}

key_groups[key] contains summary(item) if {
	some item in input.items
	certificate_item(item)
	key := item.certificate.publicKeySha256
	is_string(key)
}

chain_groups[key] contains summary(item) if {
	some item in input.items
	certificate_item(item)
	key := chain_key(item)
}

# Certificates delivered together: what one TLS endpoint served, or one file holds.
chain_key(item) := concat("|", [item.sourceId, "tls", item.evidence.endpoint]) if {
	item.provider == "tls-endpoint"
	is_string(item.evidence.endpoint)
} else := concat("|", [item.sourceId, "file", item.evidence.file]) if {
	item.provider == "x509-file"
	is_string(item.evidence.file)
}

summary(item) := {
	"uid": item.uid,
	"state": item.state,
	"subject": item.certificate.subject,
	"issuer": item.certificate.issuer,
	"serialNumber": item.certificate.serialNumber,
	"notBefore": item.certificate.notBefore,
	"notBefore_s": item._t.notBefore,
	"notAfter": item.certificate.notAfter,
	"notAfter_s": item._t.notAfter,
	"selfSigned": item.certificate.selfSigned,
	"isCA": item.certificate.isCA,
	"version": object.get(item.certificate, "version", null),
	"subjectKeyId": object.get(item.certificate, "subjectKeyId", null),
	"sans": item.certificate.sans,
}

# y (a summary) can be the issuer of item: y's subject is item's issuer name (byte-identical
# issuer and subject, BR 7.1.2), the key identifiers agree where both are known (RFC 5280
# 4.2.1.1: the authorityKeyIdentifier names the issuer's subjectKeyIdentifier), and y may sign
# certificates: a CA, or a v1/v2 certificate, which cannot say (RFC 5280 6.1.4 (k)).
issued_by(item, y) if {
	y.uid != item.uid
	y.subject == item.certificate.issuer
	key_ids_agree(item, y)
	may_issue(y)
}

key_ids_agree(item, _) if not is_string(object.get(item.certificate, "authorityKeyId", null))

key_ids_agree(_, y) if not is_string(y.subjectKeyId)

key_ids_agree(item, y) if item.certificate.authorityKeyId == y.subjectKeyId

may_issue(y) if y.isCA == true

may_issue(y) if y.version in {1, 2}

# KD-CRT-008: a certificate valid after every issuer certificate the inventory holds for it: from
# that instant no path validates (RFC 5280 6.1.3 (a)(2)), whatever its own notAfter says.
findings contains lib.rule_finding("KD-CRT-008", item, {
	"notAfter": item.certificate.notAfter,
	"issuer": item.certificate.issuer,
	"issuerNotAfter": min({y.notAfter | some y in issuers; y.notAfter_s == latest}),
	"daysBeyondIssuer": lib.whole_days(item._t.notAfter - latest),
}) if {
	some item in input.items
	candidates := index.issuers[item.certificate.issuer]
	judged(item)
	not trust_anchor(item)
	not expired(item)
	issuers := [y | some y in candidates; issued_by(item, y); is_number(y.notAfter_s)]
	count(issuers) > 0
	latest := max([y.notAfter_s | some y in issuers])
	item._t.notAfter > latest
}

# KD-CRT-009: an end-entity certificate delivered as a chain (the chain a TLS endpoint served, a
# file that holds it with a CA certificate) without its issuer. The server must send the
# intermediates: only "a certificate that specifies a trust anchor MAY be omitted" (RFC 8446
# 4.4.2). Not reported where KD-CRT-006 already says the endpoint's chain is incomplete.
findings contains lib.rule_finding_at("KD-CRT-009", item, chain_level(item), {
	"issuer": item.certificate.issuer,
	"chain": chain_kind(item),
	"chainLength": chain_length(item),
}) if {
	some item in input.items
	delivered_as_chain(item)
	judged(item)
	leaf(item)
	item.certificate.selfSigned == false
	not issuer_in_chain(item)
	not incomplete_by_trust_check(item)
}

chain_members(item) := object.get(index.chains, chain_key(item), [])

delivered_as_chain(item) if {
	item.provider == "tls-endpoint"
	item.evidence.chainIndex == 0
	chain_key(item)
}

# A file is a chain when it bundles the leaf with CA certificates (fullchain.pem); a file of leaves
# only (a PKCS#7 bag of partner certificates) is a collection, not a chain.
delivered_as_chain(item) if {
	item.provider == "x509-file"
	some y in index.chains[chain_key(item)]
	y.uid != item.uid
	y.isCA == true
}

issuer_in_chain(item) if {
	some y in chain_members(item)
	issued_by(item, y)
}

incomplete_by_trust_check(item) if {
	endpoint_leaf(item)
	item.evidence.trust.verified == false
	chain_failure(verify_error(item)) == "incomplete"
}

chain_level(item) := "served" if {
	item.provider == "tls-endpoint"
} else := "default"

chain_kind(item) := "tls-endpoint" if {
	item.provider == "tls-endpoint"
} else := "file"

# What the endpoint's handshake gave (served certificates, then issuers from the trust store), or
# the certificates in the file.
chain_length(item) := item.evidence.chainLength if {
	item.provider == "tls-endpoint"
} else := count(chain_members(item))

# KD-CRT-010: an end-entity certificate for the same subject and names as an earlier certificate
# (another serial number) and the same public key: the renewal certified the old key pair again,
# so the private key's cryptoperiod runs on across certificates (SP 800-57 Pt. 1 5.3).
findings contains lib.rule_finding("KD-CRT-010", item, {
	"publicKeySha256": item.certificate.publicKeySha256,
	"previousSerialNumber": max({y.serialNumber | some y in earlier; y.notBefore_s == previous}),
	"previousNotBefore": min({y.notBefore | some y in earlier; y.notBefore_s == previous}),
	"earlierCertificates": count({[y.issuer, y.serialNumber] | some y in earlier}),
}) if {
	some item in input.items
	peers := index.publicKeys[item.certificate.publicKeySha256]
	judged(item)
	leaf(item)
	not expired(item)
	earlier := [y | some y in peers; renewed_from(item, y)]
	count(earlier) > 0
	previous := max([y.notBefore_s | some y in earlier])
}

renewed_from(item, y) if {
	y.uid != item.uid
	is_number(y.notBefore_s)
	y.serialNumber != item.certificate.serialNumber
	y.subject == item.certificate.subject
	sort(y.sans) == sort(item.certificate.sans)
	issued_earlier(y, item)
}

issued_earlier(y, item) if y.notBefore_s < item._t.notBefore

issued_earlier(y, item) if {
	y.notBefore_s == item._t.notBefore
	y.serialNumber < item.certificate.serialNumber
}

# For KD-CRT-011: the issuer the inventory holds for item is itself issued by another CA.
issued_by_subordinate_ca(item) if {
	some y in index.issuers[item.certificate.issuer]
	issued_by(item, y)
	y.selfSigned == false
}
