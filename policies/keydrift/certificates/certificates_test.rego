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
