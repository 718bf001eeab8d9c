package keydrift.certificates_test

import data.keydrift.certificates
import data.keydrift.main

# 2026-11-01T00:00:00Z
now_s := 1793491200

day := 86400

default_settings := {
	"expiry": {"warnDays": 30, "failDays": 7},
	"certificates": {"maxValidityDays": 398, "weakSignatureHashes": ["MD2", "MD5", "SHA1"], "validitySchedule": []},
	"algorithms": {"minBits": {"rsa": 2048, "ec": 256, "symmetric": 128, "hmac": 256}},
}

# CA/B Forum schedule as the engine passes it: 2026-03-15, 2027-03-15, 2029-03-15 as epoch seconds.
public_tls_settings := object.union(default_settings, {"certificates": {
	"maxValidityDays": 398,
	"weakSignatureHashes": ["MD2", "MD5", "SHA1"],
	"validitySchedule": [
		{"from_s": 1773532800, "maxDays": 200},
		{"from_s": 1805068800, "maxDays": 100},
		{"from_s": 1868140800, "maxDays": 47},
	],
}})

cert(overrides) := object.union(
	{
		"uid": "certs/leaf.pem#sha256:00",
		"kind": "certificate",
		"state": "enabled",
		"tier": null,
		"keyType": "ec",
		"keySize": 256,
		"certificate": {
			"notBefore": "2026-10-01T00:00:00Z",
			"notAfter": "2026-12-30T00:00:00Z",
			"signatureAlgorithm": "ECDSA-SHA256",
			"selfSigned": false,
			"isCA": false,
		},
		"_t": {"notBefore": now_s - (31 * day), "notAfter": now_s + (59 * day)},
	},
	overrides,
)

with_dates(item, not_before_s, not_after_s) := object.union(item, {"_t": {"notBefore": not_before_s, "notAfter": not_after_s}})

rules_for(item, settings) := {f.rule | some f in findings_for(item, settings)}

findings_for(item, settings) := found if {
	found := main.findings with input as {"now_s": now_s, "items": [item], "sources": []}
		with data.settings as settings
		with data.tierSettings as {}
}

# --- healthy ---

test_healthy_leaf_has_no_findings if {
	count(findings_for(cert({}), default_settings)) == 0
}

test_non_certificates_are_not_judged if {
	count(findings_for(cert({"kind": "key"}), default_settings)) == 0
}

# --- KD-CRT-001 expired ---

test_expired_fires if {
	item := with_dates(cert({}), now_s - (400 * day), now_s - (17 * day))
	some f in findings_for(item, default_settings)
	f.rule == "KD-CRT-001"
	f.severity == "high"
	f.evidence.daysExpired == 17
}

test_expiring_at_this_second_is_not_expired if {
	item := with_dates(cert({}), now_s - (30 * day), now_s)
	not "KD-CRT-001" in rules_for(item, default_settings)
	"KD-CRT-002" in rules_for(item, default_settings)
}

test_revoked_or_destroyed_certificates_are_not_judged if {
	item := with_dates(cert({"state": "disabled"}), now_s - (400 * day), now_s - day)
	count(findings_for(item, default_settings)) == 0
	count(findings_for(object.union(item, {"state": "destroyed"}), default_settings)) == 0
}

# --- KD-CRT-002 expiring ---

test_expiring_within_warn_days_is_medium if {
	item := with_dates(cert({}), now_s - (60 * day), now_s + (19 * day))
	some f in findings_for(item, default_settings)
	f.rule == "KD-CRT-002"
	f.severity == "medium"
	f.evidence.daysLeft == 19
}

test_expiring_within_fail_days_is_high if {
	item := with_dates(cert({}), now_s - (60 * day), now_s + (4 * day))
	some f in findings_for(item, default_settings)
	f.rule == "KD-CRT-002"
	f.severity == "high"
}

test_expiring_exactly_at_warn_boundary_fires if {
	item := with_dates(cert({}), now_s - (60 * day), now_s + (30 * day))
	"KD-CRT-002" in rules_for(item, default_settings)
}

test_expiring_after_warn_days_does_not_fire if {
	item := with_dates(cert({}), now_s - (60 * day), (now_s + (30 * day)) + 1)
	not "KD-CRT-002" in rules_for(item, default_settings)
}

test_tier_settings_override_warn_days if {
	item := with_dates(cert({"tier": "tls"}), now_s - (60 * day), now_s + (45 * day))
	found := {f.rule | some f in main.findings} with input as {"now_s": now_s, "items": [item], "sources": []}
		with data.settings as default_settings
		with data.tierSettings as {"tls": object.union(default_settings, {"expiry": {"warnDays": 60, "failDays": 14}})}
	"KD-CRT-002" in found
}

# --- KD-CRT-003 validity length ---

test_398_day_leaf_is_allowed if {
	start := now_s - (10 * day)
	item := with_dates(cert({}), start, (start + (398 * day)) - 1)
	not "KD-CRT-003" in rules_for(item, default_settings)
}

test_399_day_leaf_fires if {
	start := now_s - (10 * day)
	item := with_dates(cert({}), start, start + (398 * day))
	some f in findings_for(item, default_settings)
	f.rule == "KD-CRT-003"
	f.evidence.validityDays == 399
	f.evidence.maxValidityDays == 398
	f.evidence.limitSource == "settings"
}

test_ca_certificates_are_not_limited if {
	start := now_s - (10 * day)
	item := with_dates(cert({"certificate": {"isCA": true}}), start, start + (3650 * day))
	not "KD-CRT-003" in rules_for(item, default_settings)
}

test_public_tls_uses_schedule_by_not_before if {
	# issued 2026-04-01 for 300 days: fine by 398 days, too long from 2026-03-15 (200 days)
	start := 1775001600
	item := with_dates(cert({}), start, start + (300 * day))
	not "KD-CRT-003" in rules_for(item, default_settings)
	some f in findings_for(item, public_tls_settings)
	f.rule == "KD-CRT-003"
	f.evidence.maxValidityDays == 200
	f.evidence.limitSource == "cab-forum-schedule"
}

test_public_tls_before_schedule_uses_398_days if {
	# issued 2026-01-01 for 300 days: before the first step, the 398-day limit applies
	start := 1767225600
	item := with_dates(cert({}), start, start + (300 * day))
	not "KD-CRT-003" in rules_for(item, public_tls_settings)
}

test_public_tls_later_step_wins if {
	# issued 2027-04-01 for 150 days: the 100-day step is in force
	start := 1806537600
	item := with_dates(cert({}), start, start + (150 * day))
	some f in findings_for(item, public_tls_settings)
	f.rule == "KD-CRT-003"
	f.evidence.maxValidityDays == 100
}

# --- KD-CRT-004 weak key ---

test_rsa_1024_fires if {
	item := cert({"keyType": "rsa", "keySize": 1024})
	some f in findings_for(item, default_settings)
	f.rule == "KD-CRT-004"
	f.evidence.minBits == 2048
}

test_rsa_2048_and_ec_256_pass if {
	not "KD-CRT-004" in rules_for(cert({"keyType": "rsa", "keySize": 2048}), default_settings)
	not "KD-CRT-004" in rules_for(cert({"keyType": "ec", "keySize": 256}), default_settings)
}

test_ec_224_fires if {
	"KD-CRT-004" in rules_for(cert({"keyType": "ec", "keySize": 224}), default_settings)
}

test_unknown_key_size_is_not_judged if {
	not "KD-CRT-004" in rules_for(cert({"keyType": "rsa", "keySize": null}), default_settings)
	not "KD-CRT-004" in rules_for(cert({"keyType": "other", "keySize": 512}), default_settings)
}

# --- KD-CRT-005 weak signature hash ---

test_sha1_leaf_fires if {
	item := cert({"certificate": {"signatureAlgorithm": "RSA-SHA1"}})
	some f in findings_for(item, default_settings)
	f.rule == "KD-CRT-005"
	f.evidence.signatureAlgorithm == "RSA-SHA1"
}

test_md5_and_pss_sha1_fire if {
	"KD-CRT-005" in rules_for(cert({"certificate": {"signatureAlgorithm": "RSA-MD5"}}), default_settings)
	"KD-CRT-005" in rules_for(cert({"certificate": {"signatureAlgorithm": "RSA-PSS-SHA1"}}), default_settings)
}

test_sha1_self_signed_root_is_exempt if {
	item := cert({"certificate": {"signatureAlgorithm": "RSA-SHA1", "selfSigned": true, "isCA": true}})
	not "KD-CRT-005" in rules_for(item, default_settings)
}

test_sha1_intermediate_or_self_signed_leaf_fires if {
	"KD-CRT-005" in rules_for(cert({"certificate": {"signatureAlgorithm": "RSA-SHA1", "isCA": true}}), default_settings)
	"KD-CRT-005" in rules_for(cert({"certificate": {"signatureAlgorithm": "ECDSA-SHA1", "selfSigned": true}}), default_settings)
}

test_sha256_does_not_fire if {
	not "KD-CRT-005" in rules_for(cert({"certificate": {"signatureAlgorithm": "RSA-SHA256"}}), default_settings)
}

test_direct_package_reference if {
	count(certificates.findings) == 0 with input as {"now_s": now_s, "items": [cert({})], "sources": []}
		with data.settings as default_settings
		with data.tierSettings as {}
}

test_certificate_without_body_or_dates_is_not_judged if {
	count(findings_for(object.union(cert({}), {"certificate": null}), default_settings)) == 0
	count(findings_for(object.union(cert({}), {"_t": {"notAfter": null}}), default_settings)) == 0
}

role(max_ttl_s) := {
	"uid": "https://vault:8200/v1/pki/roles/web",
	"kind": "certificate",
	"provider": "vault-pki",
	"state": "enabled",
	"location": "pki",
	"tier": null,
	"keyType": "rsa",
	"keySize": 2048,
	"certificate": null,
	"evidence": {"pkiRole": "web", "roleMaxTtlSeconds": max_ttl_s},
	"_t": {"notBefore": null, "notAfter": null},
}

test_pki_role_allowing_five_years_fires if {
	some f in findings_for(role((5 * 365) * day), default_settings)
	f.rule == "KD-CRT-003"
	f.evidence.validityDays == 1825
	f.evidence.role == "web"
	f.message == "PKI role web (pki) can issue certificates valid for up to 1825 days; the limit is 398 days (settings)."
}

test_pki_role_within_limit_or_unknown_does_not_fire if {
	count(findings_for(role(398 * day), default_settings)) == 0
	count(findings_for(object.union(role(0), {"evidence": {"roleMaxTtlSeconds": null}}), default_settings)) == 0
}

test_pki_role_under_public_tls_uses_the_step_in_force_now if {
	# now is 2026-11-01: the 200-day step applies
	some f in findings_for(role(300 * day), public_tls_settings)
	f.evidence.maxValidityDays == 200
}

# --- declared certificates (cert-manager Certificate manifests): no dates yet ---

declared_cert(evidence, key) := object.union(
	{
		"uid": "kubernetes:manifests/web.yaml#Certificate/shop/web",
		"kind": "certificate",
		"provider": "kubernetes-cert-manager",
		"state": "enabled",
		"name": "shop/web",
		"location": "manifests/web.yaml",
		"tier": null,
		"algorithm": "RSA-2048",
		"keyType": "rsa",
		"keySize": 2048,
		"certificate": null,
		"declared": true,
		"evidence": object.union({"duration": "2160h", "durationSeconds": 90 * day, "isCA": false}, evidence),
		"_t": {"notBefore": null, "notAfter": null},
	},
	key,
)

test_declared_certificate_of_a_year_fires_crt_003 if {
	found := findings_for(declared_cert({"duration": "8760h", "durationSeconds": 365 * day}, {}), public_tls_settings)
	some f in found
	f.rule == "KD-CRT-003"
	f.evidence.validityDays == 365
	f.evidence.maxValidityDays == 200
	f.evidence.duration == "8760h"
	f.message == "Certificate shop/web (manifests/web.yaml) is declared valid for 365 days; the limit is 200 days (cab-forum-schedule)."
	count(found) == 1
}

test_declared_certificate_within_limit_unknown_or_ca_does_not_fire_crt_003 if {
	count(findings_for(declared_cert({}, {}), default_settings)) == 0
	count(findings_for(declared_cert({"durationSeconds": 398 * day}, {}), default_settings)) == 0
	count(findings_for(declared_cert({"durationSeconds": null}, {}), default_settings)) == 0
	count(findings_for(declared_cert({"durationSeconds": 3650 * day, "isCA": true}, {}), default_settings)) == 0
}

test_declared_certificate_with_rsa_1024_key_fires_crt_004 if {
	some f in findings_for(declared_cert({}, {"algorithm": "RSA-1024", "keySize": 1024}), default_settings)
	f.rule == "KD-CRT-004"
	f.evidence.keySize == 1024
	f.evidence.minBits == 2048
	f.evidence.judgedAt == "now"
}

test_live_certificate_without_dates_is_still_not_judged_for_key_size if {
	# Only a declared certificate is judged without dates: a live one missing them is unknown.
	item := object.union(cert({"keyType": "rsa", "keySize": 1024}), {"certificate": null})
	not "KD-CRT-004" in rules_for(item, default_settings)
}

# --- KD-CRT-006 untrusted or incomplete chain, KD-CRT-007 name mismatch (TLS endpoint leaves) ---

# object.union merges nested objects, so a test that drops a field builds the item without it.
tls_item(certificate, evidence) := cert({
	"uid": "tls://shop.test:443#sha256:00",
	"provider": "tls-endpoint",
	"certificate": certificate,
	"evidence": evidence,
})

endpoint_leaf(trust, hostname) := tls_item(
	{"sans": ["DNS:shop.test"]},
	{"chainIndex": 0, "chainLength": 2, "trust": trust, "hostname": hostname},
)

trusted := {"store": "system", "caFile": null, "verified": true, "error": null}

name_matches := {"expected": "shop.test", "matches": true, "error": null}

untrusted(code) := {"store": "system", "caFile": null, "verified": false, "error": code}

wrong_name := {
	"expected": "www.example.test",
	"matches": false,
	"error": "Hostname/IP does not match certificate's altnames: Host: www.example.test. is not in the cert's altnames: DNS:shop.test",
}

test_trusted_leaf_for_its_name_passes if {
	count(findings_for(endpoint_leaf(trusted, name_matches), default_settings)) == 0
}

test_self_signed_leaf_is_untrusted if {
	some f in findings_for(endpoint_leaf(untrusted("DEPTH_ZERO_SELF_SIGNED_CERT"), name_matches), default_settings)
	f.rule == "KD-CRT-006"
	f.severity == "high"
	f.evidence == {"trustStore": "system", "verifyError": "DEPTH_ZERO_SELF_SIGNED_CERT", "reason": "untrusted"}
}

test_self_signed_root_in_chain_is_untrusted if {
	some f in findings_for(endpoint_leaf(untrusted("SELF_SIGNED_CERT_IN_CHAIN"), name_matches), default_settings)
	f.evidence.reason == "untrusted"
}

test_issuer_not_found_is_incomplete if {
	every code in ["UNABLE_TO_VERIFY_LEAF_SIGNATURE", "UNABLE_TO_GET_ISSUER_CERT_LOCALLY", "UNABLE_TO_GET_ISSUER_CERT"] {
		some f in findings_for(endpoint_leaf(untrusted(code), name_matches), default_settings)
		f.rule == "KD-CRT-006"
		f.evidence.reason == "incomplete"
		f.evidence.verifyError == code
	}
}

test_unverified_without_code_still_fires if {
	trust := {"store": "file", "caFile": "ca.pem", "verified": false, "error": null}
	some f in findings_for(endpoint_leaf(trust, name_matches), default_settings)
	f.evidence == {"trustStore": "file", "verifyError": "UNSPECIFIED", "reason": "untrusted"}
}

test_trust_not_judged_never_fires if {
	not_judged := {"store": "none", "caFile": null, "verified": null, "error": null}
	not "KD-CRT-006" in rules_for(endpoint_leaf(not_judged, name_matches), default_settings)
	masked := {"store": "system", "caFile": null, "verified": null, "error": "CERT_HAS_EXPIRED"}
	not "KD-CRT-006" in rules_for(endpoint_leaf(masked, name_matches), default_settings)
	no_trust := tls_item({"sans": ["DNS:shop.test"]}, {"chainIndex": 0, "hostname": name_matches})
	count(findings_for(no_trust, default_settings)) == 0
}

test_name_mismatch_fires if {
	some f in findings_for(endpoint_leaf(trusted, wrong_name), default_settings)
	f.rule == "KD-CRT-007"
	f.severity == "high"
	f.evidence.expectedName == "www.example.test"
	f.evidence.sans == ["DNS:shop.test"]
	f.evidence.mismatch == wrong_name.error
}

test_mismatch_without_detail_and_sans_still_fires if {
	bare := tls_item({}, {"chainIndex": 0, "trust": trusted, "hostname": {"expected": "www.example.test", "matches": false, "error": null}})
	some f in findings_for(bare, default_settings)
	f.rule == "KD-CRT-007"
	f.evidence.sans == []
	f.evidence.mismatch == "no subject alternative name matches"
}

test_self_signed_leaf_for_the_wrong_host_fires_both if {
	rules_for(endpoint_leaf(untrusted("DEPTH_ZERO_SELF_SIGNED_CERT"), wrong_name), default_settings) == {"KD-CRT-006", "KD-CRT-007"}
}

test_name_not_judged_never_fires if {
	not "KD-CRT-007" in rules_for(endpoint_leaf(trusted, {"expected": "shop.test", "matches": null, "error": null}), default_settings)
	no_name := tls_item({"sans": ["DNS:shop.test"]}, {"chainIndex": 0, "trust": trusted})
	count(findings_for(no_name, default_settings)) == 0
}

test_only_the_endpoint_leaf_is_judged_on_trust_and_name if {
	evidence := {"trust": untrusted("DEPTH_ZERO_SELF_SIGNED_CERT"), "hostname": wrong_name}
	intermediate := tls_item({"sans": []}, object.union(evidence, {"chainIndex": 1}))
	count(findings_for(intermediate, default_settings)) == 0
	no_index := tls_item({"sans": []}, evidence)
	count(findings_for(no_index, default_settings)) == 0
}

test_other_providers_are_not_judged_on_trust_and_name if {
	leaf := endpoint_leaf(untrusted("DEPTH_ZERO_SELF_SIGNED_CERT"), wrong_name)
	every provider in ["x509-file", "aws-acm", "vault-pki"] {
		count(findings_for(object.union(leaf, {"provider": provider}), default_settings)) == 0
	}
}

test_revoked_or_destroyed_endpoint_leaves_are_not_judged_on_trust_and_name if {
	leaf := endpoint_leaf(untrusted("DEPTH_ZERO_SELF_SIGNED_CERT"), wrong_name)
	count(findings_for(object.union(leaf, {"state": "disabled"}), default_settings)) == 0
	count(findings_for(object.union(leaf, {"state": "destroyed"}), default_settings)) == 0
}

# --- trust anchors (RFC 5280 6.1): exempt from KD-CRT-003 and KD-CRT-005 ---

long_sha1(certificate) := with_dates(
	cert({"certificate": object.union({"signatureAlgorithm": "RSA-SHA1"}, certificate)}),
	now_s - (3000 * day),
	now_s + (3000 * day),
)

test_self_signed_v1_root_is_a_trust_anchor if {
	item := long_sha1({"selfSigned": true, "isCA": false, "version": 1})
	not "KD-CRT-003" in rules_for(item, default_settings)
	not "KD-CRT-005" in rules_for(item, default_settings)
	not "KD-CRT-005" in rules_for(long_sha1({"selfSigned": true, "isCA": false, "version": 2}), default_settings)
}

test_self_signed_v3_without_ca_is_a_leaf if {
	rules_for(long_sha1({"selfSigned": true, "isCA": false, "version": 3}), default_settings) == {"KD-CRT-003", "KD-CRT-005"}
}

test_v1_certificate_issued_by_another_is_no_trust_anchor if {
	rules_for(long_sha1({"selfSigned": false, "isCA": false, "version": 1}), default_settings) == {"KD-CRT-003", "KD-CRT-005"}
}

test_self_signed_ca_is_a_trust_anchor_for_validity_too if {
	count(findings_for(long_sha1({"selfSigned": true, "isCA": true, "version": 3}), default_settings)) == 0
}

# --- KD-CRT-005 unrecognised signature algorithm ---

test_unknown_signature_algorithm_is_low if {
	every algorithm in ["UNKNOWN:1.2.156.10197.1.501", "RSA-PSS-UNKNOWN:2.16.840.1.101.3.4.2.8"] {
		some f in findings_for(cert({"certificate": {"signatureAlgorithm": algorithm}}), default_settings)
		f.rule == "KD-CRT-005"
		f.severity == "low"
		f.evidence.signatureAlgorithm == algorithm
	}
}

test_unknown_signature_on_a_trust_anchor_is_exempt if {
	item := cert({"certificate": {"signatureAlgorithm": "UNKNOWN:1.2.3.4", "selfSigned": true, "isCA": true}})
	not "KD-CRT-005" in rules_for(item, default_settings)
}

# --- KD-CRT-002 windows scaled by lifetime ---

scaled := object.union(default_settings, {"expiry": {"warnFraction": 0.3333, "failFraction": 0.1666, "warnFloorDays": 2, "failFloorDays": 1}})

expiry_finding(item, settings) := [f | some f in findings_for(item, settings); f.rule == "KD-CRT-002"]

test_47_day_certificate_warns_from_a_third_of_its_life if {
	# 47 days of validity, 20 days left: inside the fixed 30 days, outside 16 (ceil(47 * 0.3333))
	start := now_s - (27 * day)
	item := with_dates(cert({}), start, (start + (47 * day)) - 1)
	count(expiry_finding(item, default_settings)) == 1
	count(expiry_finding(item, scaled)) == 0
	[f] := expiry_finding(with_dates(cert({}), now_s - (31 * day), (now_s + (16 * day)) - 1), scaled)
	f.severity == "medium"
	f.evidence.warnDays == 16
	f.evidence.failDays == 7
}

test_90_day_certificate_keeps_the_fixed_windows if {
	start := now_s - (60 * day)
	[f] := expiry_finding(with_dates(cert({}), start, (start + (90 * day)) - 1), scaled)
	f.evidence.warnDays == 30
	f.evidence.failDays == 7
}

test_scaled_fail_window_and_floors if {
	# 30 days of validity, 5 days left: fail window ceil(30 * 0.1666) = 5, high
	start := now_s - (25 * day)
	[f] := expiry_finding(with_dates(cert({}), start, (start + (30 * day)) - 1), scaled)
	f.severity == "high"
	f.evidence.failDays == 5
	f.evidence.warnDays == 10

	# 3 days of validity: one third is 1 day, the floors give 2 and 1
	[g] := expiry_finding(with_dates(cert({}), now_s - day, (now_s + (2 * day)) - 1), scaled)
	g.evidence.warnDays == 2
	g.evidence.failDays == 1
	g.severity == "medium"
}

# --- relations: certificates compared with each other (KD-CRT-008, -009, -010) ---

full(uid, subject, issuer, overrides) := object.union(
	{
		"uid": uid,
		"kind": "certificate",
		"provider": "x509-file",
		"sourceId": "files",
		"state": "enabled",
		"tier": null,
		"keyType": "ec",
		"keySize": 256,
		"curve": "P-256",
		"certificate": {
			"subject": subject,
			"issuer": issuer,
			"serialNumber": concat("", ["serial-", uid]),
			"notBefore": "2026-10-01T00:00:00Z",
			"notAfter": "2026-12-30T00:00:00Z",
			"signatureAlgorithm": "ECDSA-SHA256",
			"selfSigned": subject == issuer,
			"isCA": false,
			"sans": [],
			"version": 3,
			"subjectKeyId": null,
			"authorityKeyId": null,
		},
		"evidence": {"file": concat("", [uid, ".pem"])},
		"_t": {"notBefore": now_s - (31 * day), "notAfter": now_s + (59 * day)},
	},
	overrides,
)

ca_cert(uid, subject, issuer, not_after_s, overrides) := full(uid, subject, issuer, object.union(
	{"certificate": {"isCA": true, "notAfter": concat("", ["end-of-", uid])}, "_t": {"notBefore": now_s - (900 * day), "notAfter": not_after_s}},
	overrides,
))

leaf_of(uid, issuer, not_after_s, overrides) := full(uid, concat("", ["CN=", uid]), issuer, object.union(
	{"certificate": {"sans": [concat("", ["DNS:", uid])]}, "_t": {"notAfter": not_after_s}},
	overrides,
))

findings_in(items, settings) := found if {
	found := main.findings with input as {"now_s": now_s, "items": items, "sources": []}
		with data.settings as settings
		with data.tierSettings as {}
}

rule_uids(items, rule) := {f.uid | some f in findings_in(items, default_settings); f.rule == rule}

# KD-CRT-008 outlives its issuer

test_leaf_outliving_its_issuer_fires if {
	ca := ca_cert("int", "CN=Int", "CN=Root", now_s + (40 * day), {})
	leaf := leaf_of("app", "CN=Int", now_s + (100 * day), {})
	[f] := [f | some f in findings_in([ca, leaf], default_settings); f.rule == "KD-CRT-008"]
	f.uid == "app"
	f.severity == "medium"
	f.evidence == {"notAfter": "2026-12-30T00:00:00Z", "issuer": "CN=Int", "issuerNotAfter": "end-of-int", "daysBeyondIssuer": 60}
}

test_the_latest_issuer_copy_counts if {
	old := ca_cert("int-old", "CN=Int", "CN=Root", now_s + (40 * day), {})
	renewed := ca_cert("int-new", "CN=Int", "CN=Root", now_s + (400 * day), {})
	leaf := leaf_of("app", "CN=Int", now_s + (100 * day), {})
	count(rule_uids([old, renewed, leaf], "KD-CRT-008")) == 0
	rule_uids([old, leaf], "KD-CRT-008") == {"app"}
}

test_issuer_must_match_key_id_and_be_a_ca if {
	leaf := leaf_of("app", "CN=Int", now_s + (100 * day), {"certificate": {"authorityKeyId": "aa"}})
	other_key := ca_cert("int", "CN=Int", "CN=Root", now_s + (40 * day), {"certificate": {"subjectKeyId": "bb"}})
	count(rule_uids([other_key, leaf], "KD-CRT-008")) == 0
	same_key := ca_cert("int", "CN=Int", "CN=Root", now_s + (40 * day), {"certificate": {"subjectKeyId": "aa"}})
	rule_uids([same_key, leaf], "KD-CRT-008") == {"app"}
	not_a_ca := full("int", "CN=Int", "CN=Root", {"_t": {"notAfter": now_s + (40 * day)}})
	count(rule_uids([not_a_ca, leaf], "KD-CRT-008")) == 0
}

test_a_v1_root_can_be_the_outlived_issuer if {
	root := full("root", "CN=Root", "CN=Root", {"certificate": {"version": 1, "selfSigned": true}, "_t": {"notAfter": now_s + (10 * day)}})
	leaf := leaf_of("app", "CN=Root", now_s + (100 * day), {})
	rule_uids([root, leaf], "KD-CRT-008") == {"app"}
}

test_expired_anchors_or_unknown_issuers_are_not_judged if {
	ca := ca_cert("int", "CN=Int", "CN=Root", now_s + (40 * day), {})
	expired_leaf := leaf_of("app", "CN=Int", now_s - day, {})
	count(rule_uids([ca, expired_leaf], "KD-CRT-008")) == 0
	count(rule_uids([leaf_of("app", "CN=Int", now_s + (100 * day), {})], "KD-CRT-008")) == 0
	undated := ca_cert("int", "CN=Int", "CN=Root", null, {})
	count(rule_uids([undated, leaf_of("app", "CN=Int", now_s + (100 * day), {})], "KD-CRT-008")) == 0
}

test_the_engine_index_is_used_when_given if {
	leaf := leaf_of("app", "CN=Int", now_s + (100 * day), {})
	summary := {
		"uid": "int-elsewhere", "state": "enabled", "subject": "CN=Int", "issuer": "CN=Root",
		"serialNumber": "1", "notBefore": "2024-01-01T00:00:00Z", "notBefore_s": 1704067200,
		"notAfter": "2026-12-01T00:00:00Z", "notAfter_s": now_s + (30 * day),
		"selfSigned": false, "isCA": true, "version": 3, "subjectKeyId": null, "sans": [],
	}
	found := main.findings with input as {"now_s": now_s, "items": [leaf], "sources": []}
		with data.settings as default_settings
		with data.tierSettings as {}
		with data.certificateIndex as {"issuers": {"CN=Int": [summary]}, "publicKeys": {}, "chains": {}}
	some f in found
	f.rule == "KD-CRT-008"
	f.evidence.issuerNotAfter == "2026-12-01T00:00:00Z"
}

# KD-CRT-009 chain delivered without the leaf's issuer

served(uid, subject, issuer, index, overrides) := full(uid, subject, issuer, object.union(
	{"provider": "tls-endpoint", "sourceId": "edge", "evidence": {"endpoint": "shop.test:443", "chainIndex": index, "chainLength": 2}},
	overrides,
))

test_endpoint_serving_only_its_leaf_is_incomplete if {
	leaf := served("leaf", "CN=shop.test", "CN=Int", 0, {"evidence": {"chainLength": 1}})
	[f] := [f | some f in findings_in([leaf], default_settings); f.rule == "KD-CRT-009"]
	f.severity == "high"
	f.evidence == {"issuer": "CN=Int", "chain": "tls-endpoint", "chainLength": 1}
}

test_endpoint_serving_its_intermediate_is_complete if {
	leaf := served("leaf", "CN=shop.test", "CN=Int", 0, {})
	intermediate := served("int", "CN=Int", "CN=Root", 1, {"certificate": {"isCA": true}})
	count(rule_uids([leaf, intermediate], "KD-CRT-009")) == 0

	# an intermediate of another endpoint does not complete this one
	elsewhere := object.union(intermediate, {"evidence": {"endpoint": "other.test:443"}})
	rule_uids([leaf, elsewhere], "KD-CRT-009") == {"leaf"}
}

test_kd_crt_006_incomplete_is_not_repeated if {
	trust := {"store": "system", "caFile": null, "verified": false, "error": "UNABLE_TO_VERIFY_LEAF_SIGNATURE"}
	leaf := served("leaf", "CN=shop.test", "CN=Int", 0, {"evidence": {"trust": trust}})
	rules := {f.rule | some f in findings_in([leaf], default_settings)}
	"KD-CRT-006" in rules
	not "KD-CRT-009" in rules
	untrusted_root := object.union(leaf, {"evidence": {"trust": {"error": "SELF_SIGNED_CERT_IN_CHAIN"}}})
	rule_uids([untrusted_root], "KD-CRT-009") == {"leaf"}
}

test_file_bundle_with_the_wrong_intermediate_is_incomplete if {
	leaf := full("leaf", "CN=pay.test", "CN=Int 3", {"evidence": {"file": "bundle.pem"}})
	other := full("int2", "CN=Int 2", "CN=Root", {"certificate": {"isCA": true}, "evidence": {"file": "bundle.pem"}})
	[f] := [f | some f in findings_in([leaf, other], default_settings); f.rule == "KD-CRT-009"]
	f.uid == "leaf"
	f.severity == "medium"
	f.evidence == {"issuer": "CN=Int 3", "chain": "file", "chainLength": 2}
}

test_single_certificate_files_cas_and_self_signed_are_not_judged if {
	count(rule_uids([full("leaf", "CN=pay.test", "CN=Int 3", {})], "KD-CRT-009")) == 0
	ca := in_bundle(full("ca", "CN=Int 3", "CN=Root", {"certificate": {"isCA": true}}))
	self_signed := in_bundle(full("self", "CN=self.test", "CN=self.test", {}))
	count(rule_uids([ca, self_signed], "KD-CRT-009")) == 0
	bag := [in_bundle(full("a", "CN=a.test", "CN=Int 3", {})), in_bundle(full("b", "CN=b.test", "CN=Int 3", {}))]
	count(rule_uids(bag, "KD-CRT-009")) == 0
	no_file := full("leaf", "CN=pay.test", "CN=Int 3", {"evidence": {"file": null}})
	count(rule_uids([no_file, object.union(no_file, {"uid": "leaf2"})], "KD-CRT-009")) == 0
}

in_bundle(item) := object.union(item, {"evidence": {"file": "bundle.pem"}})

# KD-CRT-010 key pair reused at renewal

renewal(uid, not_before_s, key, overrides) := full(uid, "CN=www.test", "CN=Int", object.union(
	{
		"certificate": {"sans": ["DNS:www.test", "DNS:test"], "publicKeySha256": key, "notBefore": concat("", ["start-", uid])},
		"_t": {"notBefore": not_before_s, "notAfter": not_before_s + (90 * day)},
	},
	overrides,
))

test_renewal_on_the_same_key_fires_on_the_later_certificate if {
	first := renewal("first", now_s - (80 * day), "k1", {})
	second := renewal("second", now_s - (20 * day), "k1", {"certificate": {"sans": ["DNS:test", "DNS:www.test"]}})
	third := renewal("third", now_s - day, "k1", {})
	found := [f | some f in findings_in([first, second, third], default_settings); f.rule == "KD-CRT-010"]
	{f.uid | some f in found} == {"second", "third"}
	some f in found
	f.uid == "third"
	f.severity == "low"
	f.evidence == {"publicKeySha256": "k1", "previousSerialNumber": "serial-second", "previousNotBefore": "start-second", "earlierCertificates": 2}
}

test_same_second_renewals_are_ordered_by_serial if {
	a := renewal("a", now_s - day, "k1", {})
	b := renewal("b", now_s - day, "k1", {})
	rule_uids([a, b], "KD-CRT-010") == {"b"}
}

test_other_names_same_serial_new_key_or_cas_are_not_renewals if {
	first := renewal("first", now_s - (80 * day), "k1", {})
	other_names := renewal("multi", now_s - day, "k1", {"certificate": {"sans": ["DNS:www.test"]}})
	other_subject := renewal("subj", now_s - day, "k1", {"certificate": {"subject": "CN=other"}})
	same_cert := renewal("copy", now_s - day, "k1", {"certificate": {"serialNumber": "serial-first"}})
	new_key := renewal("rekeyed", now_s - day, "k2", {})
	count(rule_uids([first, other_names, other_subject, same_cert, new_key], "KD-CRT-010")) == 0
	ca := renewal("ca", now_s - day, "k1", {"certificate": {"isCA": true}})
	expired := renewal("gone", now_s - (50 * day), "k1", {"_t": {"notAfter": now_s - day}})
	count(rule_uids([first, ca, expired], "KD-CRT-010")) == 0
	undated := renewal("undated", now_s - (80 * day), "k1", {"_t": {"notBefore": null}})
	count(rule_uids([undated, renewal("third", now_s - day, "k1", {})], "KD-CRT-010")) == 0
}

# --- KD-CRT-011 no revocation pointer ---

issued(overrides) := full("leaf", "CN=leaf.test", "CN=Int", object.union(
	{"certificate": {"crlDistributionPoints": [], "ocspUrls": [], "noRevocationAvailable": false}},
	overrides,
))

# The subordinate CA that issued it, and the root above.
subordinate := ca_cert("int", "CN=Int", "CN=Root", now_s + (900 * day), {})

test_no_crl_and_no_ocsp_fires if {
	[f] := [f | some f in findings_in([subordinate, issued({})], default_settings); f.rule == "KD-CRT-011"]
	f.uid == "leaf"
	f.severity == "medium"
	f.evidence == {"issuer": "CN=Int"}
}

test_only_leaves_of_a_known_subordinate_ca_are_judged if {
	count(rule_uids([issued({})], "KD-CRT-011")) == 0
	root := ca_cert("int", "CN=Int", "CN=Int", now_s + (900 * day), {"certificate": {"selfSigned": true}})
	count(rule_uids([root, issued({})], "KD-CRT-011")) == 0
	count(rule_uids([subordinate, issued({"certificate": {"isCA": true}})], "KD-CRT-011")) == 0
}

test_any_pointer_or_no_rev_avail_passes if {
	count(rule_uids([subordinate, issued({"certificate": {"crlDistributionPoints": ["http://crl.test/int.crl"]}})], "KD-CRT-011")) == 0
	count(rule_uids([subordinate, issued({"certificate": {"ocspUrls": ["http://ocsp.test"]}})], "KD-CRT-011")) == 0
	count(rule_uids([subordinate, issued({"certificate": {"noRevocationAvailable": true}})], "KD-CRT-011")) == 0
	count(rule_uids([subordinate, issued({"_t": {"notAfter": now_s - 1}})], "KD-CRT-011")) == 0
	count(rule_uids([subordinate, full("leaf", "CN=leaf.test", "CN=Int", {})], "KD-CRT-011")) == 0
}

test_short_lived_subscriber_certificates_are_exempt if {
	# from 2026-03-15: at most 7 days (604,800 s)
	seven := issued({"_t": {"notBefore": now_s - day, "notAfter": (now_s + (6 * day)) - 1}})
	count(rule_uids([subordinate, seven], "KD-CRT-011")) == 0
	eight := issued({"_t": {"notBefore": now_s - day, "notAfter": now_s + (6 * day)}})
	rule_uids([subordinate, eight], "KD-CRT-011") == {"leaf"}

	# 2024-03-15 to 2026-03-15: at most 10 days; before 2024-03-15 no exemption
	start := 1767225600
	short_2026 := issued({"_t": {"notBefore": start, "notAfter": (start + (10 * day)) - 1}})
	certificates.short_lived(short_2026)
	not certificates.short_lived(object.union(short_2026, {"_t": {"notBefore": 1704067200, "notAfter": 1704067200 + (5 * day)}}))
	not certificates.short_lived(issued({"certificate": {"isCA": true}, "_t": {"notBefore": now_s - day, "notAfter": now_s + day}}))
}

# --- KD-CRT-012 wildcard, KD-CRT-013 CN-only ---

named(sans, common_name, eku) := full("leaf", "CN=x", "CN=Int", {"certificate": {"sans": sans, "commonName": common_name, "extendedKeyUsage": eku}})

test_wildcard_san_fires if {
	[f] := [f | some f in findings_in([named(["DNS:*.example.test", "DNS:example.test"], "example.test", null)], default_settings); f.rule == "KD-CRT-012"]
	f.severity == "low"
	f.evidence.wildcardNames == ["*.example.test"]
}

test_wildcard_common_name_counts_only_without_dns_names if {
	[f] := [f | some f in findings_in([named([], "*.corp.test", null)], default_settings); f.rule == "KD-CRT-012"]
	f.evidence.wildcardNames == ["*.corp.test"]
	count(rule_uids([named(["DNS:www.corp.test"], "*.corp.test", null)], "KD-CRT-012")) == 0
	count(rule_uids([named([], "www.corp.test", null)], "KD-CRT-012")) == 0
	ca := full("ca", "CN=*.x", "CN=Root", {"certificate": {"isCA": true, "sans": ["DNS:*.x.test"]}})
	count(rule_uids([ca], "KD-CRT-012")) == 0
}

test_cn_only_server_certificate_fires if {
	[f] := [f | some f in findings_in([named([], "legacy.test", null)], default_settings); f.rule == "KD-CRT-013"]
	f.severity == "medium"
	f.evidence == {"commonName": "legacy.test"}
	rule_uids([named(["email:ops@test"], "legacy.test", ["1.3.6.1.5.5.7.3.1"])], "KD-CRT-013") == {"leaf"}
	rule_uids([named([], "legacy.test", ["2.5.29.37.0"])], "KD-CRT-013") == {"leaf"}
}

test_names_in_sans_client_certificates_and_unknowns_pass if {
	count(rule_uids([named(["DNS:legacy.test"], "legacy.test", null)], "KD-CRT-013")) == 0
	count(rule_uids([named(["IP Address:10.0.0.5"], "10.0.0.5", null)], "KD-CRT-013")) == 0
	count(rule_uids([named([], "svc-account-7", ["1.3.6.1.5.5.7.3.2"])], "KD-CRT-013")) == 0
	count(rule_uids([named([], null, null)], "KD-CRT-013")) == 0
	count(rule_uids([full("leaf", "CN=x", "CN=Int", {"certificate": {"commonName": "legacy.test"}})], "KD-CRT-013")) == 0
	anchor := full("root", "CN=Root", "CN=Root", {"certificate": {"version": 1, "commonName": "Root", "extendedKeyUsage": null}})
	count(rule_uids([anchor], "KD-CRT-013")) == 0
}

# --- KD-CRT-014 curves ---

br_curves := object.union(default_settings, {"certificates": {"allowedCurves": ["P-256", "P-384", "P-521"]}})

test_curves_outside_the_list_fire_only_when_a_list_is_set if {
	every curve in ["secp256k1", "Ed25519"] {
		item := cert({"curve": curve})
		some f in findings_for(item, br_curves)
		f.rule == "KD-CRT-014"
		f.severity == "medium"
		f.evidence == {"curve": curve, "allowedCurves": ["P-256", "P-384", "P-521"]}
		not "KD-CRT-014" in rules_for(item, default_settings)
	}
	not "KD-CRT-014" in rules_for(cert({"curve": "P-384"}), br_curves)
	not "KD-CRT-014" in rules_for(cert({"keyType": "rsa", "curve": null}), br_curves)
}
