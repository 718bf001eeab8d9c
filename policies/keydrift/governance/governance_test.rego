package keydrift.governance_test

import data.keydrift.main
import data.keydrift.testing

run(sources) := found if {
	found := main.findings with input as {"now_s": 0, "items": [], "sources": sources}
		with data.settings as {}
		with data.tierSettings as {}
}

test_complete_source_is_not_a_finding if {
	count(run([{"id": "certs", "type": "x509-files", "status": "ok", "errors": []}])) == 0
}

test_partial_source_is_a_high_finding if {
	found := run([{"id": "certs", "type": "x509-files", "status": "partial", "errors": [{"code": "certificate-invalid", "message": "certs/bad.pem: not base64"}]}])
	some f in found
	f.rule == "KD-GOV-003"
	f.uid == "source:certs"
	f.severity == "high"
	f.evidence.status == "partial"
	f.evidence.errorCount == 1
	f.evidence.firstError == "certs/bad.pem: not base64"
}

test_failed_source_without_errors_still_fires if {
	some f in run([{"id": "edge", "type": "tls", "status": "failed", "errors": []}])
	f.rule == "KD-GOV-003"
	f.evidence.firstError == ""
}

test_one_finding_per_incomplete_source if {
	found := run([
		{"id": "a", "type": "tls", "status": "failed", "errors": []},
		{"id": "b", "type": "tls", "status": "ok", "errors": []},
		{"id": "c", "type": "tls", "status": "partial", "errors": []},
	])
	{f.uid | some f in found} == {"source:a", "source:c"}
}

# --- KD-GOV-001 required tags ---

tagged_settings := object.union(testing.default_settings, {"governance": {"requiredTags": ["owner", "cost-center"]}})

test_missing_required_tags_fire_low if {
	found := testing.run([testing.key({"tags": {"owner": "payments"}})], tagged_settings, {})
	some f in found
	f.rule == "KD-GOV-001"
	f.severity == "low"
	f.evidence.missingTags == ["cost-center"]
}

test_all_tags_present_or_none_required_does_not_fire if {
	count(testing.run([testing.key({"tags": {"owner": "p", "cost-center": ""}})], tagged_settings, {})) == 0
	not "KD-GOV-001" in testing.rules(testing.key({}))
}

test_untaggable_providers_and_provider_keys_are_not_judged if {
	count(testing.run([testing.key({"provider": "pkcs11"})], tagged_settings, {})) == 0
	"KD-GOV-001" in {f.rule | some f in testing.run([testing.key({"provider": "pkcs11", "tags": {"app": "x"}})], tagged_settings, {})}
	count(testing.run([testing.key({"managedBy": "provider"})], tagged_settings, {})) == 0
}

test_acm_certificates_are_judged if {
	cert := {"uid": "arn:aws:acm:us-east-1:1:certificate/c", "kind": "certificate", "provider": "aws-acm", "managedBy": "customer", "state": "enabled", "tags": {}, "tier": null, "keyType": "rsa", "keySize": 2048, "certificate": {"signatureAlgorithm": "RSA-SHA256", "isCA": false, "selfSigned": false}, "_t": {"notBefore": testing.now_s - testing.day, "notAfter": testing.now_s + (100 * testing.day)}}
	{f.rule | some f in testing.run([cert], tagged_settings, {})} == {"KD-GOV-001"}
}

# --- KD-GOV-002 expired waivers ---

waiver(expires_s) := {"rule": "KD-ROT-001", "resource": "arn:aws:kms:*", "owner": "platform", "reason": "migration", "expires": "2026-10-01", "expires_s": expires_s}

run_waivers(waivers) := found if {
	found := main.findings with input as {"now_s": testing.now_s, "items": [], "sources": [], "waivers": waivers}
		with data.settings as testing.default_settings
		with data.tierSettings as {}
}

test_expired_waiver_fires if {
	some f in run_waivers([waiver(testing.now_s - (31 * testing.day))])
	f.rule == "KD-GOV-002"
	f.uid == "waiver:KD-ROT-001@arn:aws:kms:*"
	f.evidence.daysExpired == 31
	f.evidence.waiverOwner == "platform"
}

test_waiver_valid_until_its_expiry_second if {
	count(run_waivers([waiver(testing.now_s)])) == 0
	count(run_waivers([waiver(testing.now_s + testing.day)])) == 0
}
