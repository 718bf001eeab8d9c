package keydrift.algorithms_test

import data.keydrift.main
import data.keydrift.testing

day := testing.day

now_s := testing.now_s

# --- KD-ALG-001 denied / unknown ---

test_denied_algorithm_fires_high if {
	f := testing.finding(testing.key({"algorithm": "3DES", "keySize": 168}), "KD-ALG-001")
	f.severity == "high"
	f.evidence.reason == "denied"
}

test_denied_entry_matches_its_variants_but_not_lookalikes if {
	"KD-ALG-001" in testing.rules(testing.key({"algorithm": "DES-56", "keySize": 56}))
	"KD-ALG-001" in testing.rules(testing.key({"algorithm": "HMAC-SHA1", "keyType": "hmac", "keySize": 256}))
	not "KD-ALG-001" in testing.rules(testing.key({"algorithm": "HMAC-SHA256", "keyType": "hmac", "keySize": 256}))
	settings := testing.with_settings({"algorithms": {"denied": ["DES"]}})
	not "KD-ALG-001" in testing.rules_with(testing.key({"algorithm": "3DES", "keySize": 168}), settings)
}

test_unknown_algorithm_fires_low if {
	f := testing.finding(testing.key({"algorithm": "UNKNOWN:FANCY_CIPHER"}), "KD-ALG-001")
	f.severity == "low"
	f.evidence.reason == "unrecognised"
	f.evidence.rawAlgorithm == "FANCY_CIPHER"
}

test_disabled_denied_key_still_fires_pending_deletion_does_not if {
	"KD-ALG-001" in testing.rules(testing.key({"algorithm": "3DES", "state": "disabled"}))
	not "KD-ALG-001" in testing.rules(testing.key({"algorithm": "3DES", "state": "pending-deletion"}))
	not "KD-ALG-001" in testing.rules(testing.key({"algorithm": "3DES", "state": "destroyed"}))
}

# --- KD-ALG-002 key size ---

test_short_rsa_fires if {
	item := testing.key({"algorithm": "RSA-1024", "keyType": "rsa", "keySize": 1024, "purpose": "sign", "rotation": {"supported": false}, "expiresAt": "2027-01-01T00:00:00Z", "_t": {"expiresAt": now_s + (61 * day)}})
	f := testing.finding(item, "KD-ALG-002")
	f.severity == "high"
	f.evidence.minBits == 2048
}

test_minimum_sizes_pass if {
	not "KD-ALG-002" in testing.rules(testing.key({"keySize": 128, "algorithm": "AES-128"}))
	not "KD-ALG-002" in testing.rules(testing.key({"algorithm": "EC-P256", "keyType": "ec", "keySize": 256}))
	not "KD-ALG-002" in testing.rules(testing.key({"algorithm": "HMAC-SHA256", "keyType": "hmac", "keySize": 256}))
}

test_short_hmac_and_unknown_sizes if {
	"KD-ALG-002" in testing.rules(testing.key({"algorithm": "HMAC-SHA256", "keyType": "hmac", "keySize": 128}))
	not "KD-ALG-002" in testing.rules(testing.key({"keySize": null}))
	not "KD-ALG-002" in testing.rules(testing.key({"keyType": "pqc", "algorithm": "ML-DSA-65", "keySize": 10}))
}

test_tier_raises_minimum if {
	item := testing.key({"tier": "root", "algorithm": "RSA-2048", "keyType": "rsa", "keySize": 2048, "expiresAt": "2029-01-01T00:00:00Z", "_t": {"expiresAt": now_s + (800 * day)}})
	strict := testing.with_settings({"algorithms": {"minBits": {"rsa": 3072}}})
	"KD-ALG-002" in {f.rule | some f in testing.run([item], testing.default_settings, {"root": strict})}
}

# --- KD-ALG-003 post-quantum deadline ---

test_rsa_key_without_expiry_is_info if {
	f := testing.finding(testing.key({"algorithm": "RSA-3072", "keyType": "rsa", "keySize": 3072, "purpose": "sign"}), "KD-ALG-003")
	f.severity == "info"
	f.evidence.pqcDeadline == "2030-12-31"
	f.evidence.reason == "no retirement date before 2030-12-31"
}

test_ec_key_expiring_after_deadline_fires_before_does_not if {
	late := testing.key({"algorithm": "EC-P256", "keyType": "ec", "keySize": 256, "expiresAt": "2031-01-01T00:00:00Z", "_t": {"expiresAt": 1924992000}})
	"KD-ALG-003" in testing.rules(late)
	on_time := testing.key({"algorithm": "EC-P256", "keyType": "ec", "keySize": 256, "expiresAt": "2030-12-31T23:59:59Z", "_t": {"expiresAt": 1924991999}})
	not "KD-ALG-003" in testing.rules(on_time)
}

test_symmetric_pqc_and_disabled_keys_are_not_judged if {
	not "KD-ALG-003" in testing.rules(testing.key({}))
	not "KD-ALG-003" in testing.rules(testing.key({"algorithm": "ML-DSA-65", "keyType": "pqc"}))
	not "KD-ALG-003" in testing.rules(testing.key({"algorithm": "RSA-2048", "keyType": "rsa", "state": "disabled"}))
}

# --- Strength by date, legacy use and deprecation (docs/rule-semantics.md, "Strength by date") ---

# The whole entrypoint at another clock.
run_at(items, now, settings) := found if {
	found := main.findings with input as {"now_s": now, "items": items, "sources": [], "waivers": []}
		with data.settings as settings
		with data.tierSettings as {}
}

finding_at(item, now, settings, rule) := f if {
	some f in run_at([item], now, settings)
	f.rule == rule
}

y2031 := 1924992000 # 2031-01-01T00:00:00Z, the default minBitsSchedule step

rsa2048(overrides) := testing.key(object.union(
	{"algorithm": "RSA-2048", "keyType": "rsa", "keySize": 2048, "curve": null, "purpose": "sign", "rotation": {"supported": false, "automatic": false}},
	overrides,
))

test_112_bit_rsa_passes_through_2030_and_fails_from_2031 if {
	not "KD-ALG-002" in {f.rule | some f in run_at([rsa2048({})], y2031 - 1, testing.default_settings)}
	f := finding_at(rsa2048({}), y2031, testing.default_settings, "KD-ALG-002")
	f.severity == "high"
	f.evidence.minBits == 3072
	f.evidence.minBitsFrom == "2031-01-01"
	f.evidence.judgedAt == "now"
	f.evidence.curve == null
}

test_a_step_never_lowers_a_stricter_tier_or_setting if {
	strict := testing.with_settings({"algorithms": {"minBits": {"rsa": 4096}}})
	f := finding_at(testing.key({"algorithm": "RSA-3072", "keyType": "rsa", "keySize": 3072, "purpose": "sign"}), y2031, strict, "KD-ALG-002")
	f.evidence.minBits == 4096
	f.evidence.minBitsFrom == null
	ec := testing.key({"algorithm": "EC-P224", "keyType": "ec", "keySize": 224, "curve": "P-224", "purpose": "sign"})
	g := finding_at(ec, y2031, testing.default_settings, "KD-ALG-002")
	g.evidence.minBits == 256
	g.evidence.minBitsFrom == null
	g.evidence.curve == "P-224"
}

test_a_lowered_floor_is_raised_again_by_the_step if {
	lowered := testing.with_settings({"algorithms": {"minBits": {"ec": 224}}})
	ec := testing.key({"algorithm": "EC-P224", "keyType": "ec", "keySize": 224, "curve": "P-224", "purpose": "sign"})
	not "KD-ALG-002" in {f.rule | some f in run_at([ec], y2031 - 1, lowered)}
	finding_at(ec, y2031, lowered, "KD-ALG-002").evidence.minBitsFrom == "2031-01-01"
}

test_without_a_schedule_the_floor_is_min_bits if {
	no_schedule := json.remove(testing.default_settings, ["algorithms/minBitsSchedule"])
	not "KD-ALG-002" in {f.rule | some f in run_at([rsa2048({})], y2031, no_schedule)}
}

test_secrecy_years_judge_key_establishment_keys_where_their_data_must_stay_secret if {
	secrecy := testing.with_settings({"algorithms": {"secrecyYears": 5}})
	encrypt := rsa2048({"purpose": "encrypt"})
	f := finding_at(encrypt, testing.now_s, secrecy, "KD-ALG-002")
	f.evidence.minBits == 3072
	f.evidence.judgedAt == "now + 5 years"
	"KD-ALG-002" in testing.rules_with(rsa2048({"purpose": "agree"}), secrecy)
	"KD-ALG-002" in testing.rules_with(rsa2048({"purpose": "wrap"}), secrecy)
	not "KD-ALG-002" in testing.rules_with(rsa2048({}), secrecy)
	not "KD-ALG-002" in testing.rules(encrypt)
}

test_secrecy_counts_from_the_end_of_use_in_365_day_years if {
	# 2027-01-02 + 4 x 365 days is 2031-01-01 (the step); 2027-01-01 + 4 x 365 days is 2030-12-31.
	late := rsa2048({"purpose": "encrypt", "expiresAt": "2027-01-02T00:00:00Z", "_t": {"expiresAt": 1798848000}})
	early := rsa2048({"purpose": "encrypt", "expiresAt": "2027-01-01T00:00:00Z", "_t": {"expiresAt": 1798761600}})
	secrecy := testing.with_settings({"algorithms": {"secrecyYears": 4}})
	f := finding_at(late, testing.now_s, secrecy, "KD-ALG-002")
	f.evidence.judgedAt == "2027-01-02T00:00:00Z + 4 years"
	not "KD-ALG-002" in testing.rules_with(early, secrecy)
}

test_secrecy_ending_before_now_judges_at_now if {
	# Expired long ago: its data's secrecy ended in the past, so the clock decides.
	old := rsa2048({"purpose": "encrypt", "expiresAt": "2020-01-01T00:00:00Z", "_t": {"expiresAt": 1577836800}})
	f := finding_at(old, y2031, testing.with_settings({"algorithms": {"secrecyYears": 1}}), "KD-ALG-002")
	f.evidence.judgedAt == "now"
}

# Certificates (KD-CRT-004) share the floor: a leaf's key may transport or agree keys, a CA's only signs.
cert(overrides) := object.union(
	{
		"uid": "certs/leaf.pem",
		"kind": "certificate",
		"provider": "x509-file",
		"name": "leaf.example.com",
		"managedBy": "customer",
		"state": "enabled",
		"algorithm": "RSA-2048",
		"keyType": "rsa",
		"keySize": 2048,
		"purpose": "tls",
		"tags": {},
		"tier": null,
		"evidence": {},
		"certificate": {
			"subject": "CN=leaf.example.com", "issuer": "CN=Example CA", "notBefore": "2026-10-01T00:00:00Z",
			"notAfter": "2027-03-01T00:00:00Z", "signatureAlgorithm": "RSA-SHA256", "selfSigned": false, "isCA": false,
			"sans": ["leaf.example.com"],
		},
		"_t": {"notBefore": 1790812800, "notAfter": 1803859200, "expiresAt": null, "createdAt": null},
	},
	overrides,
)

test_leaf_certificates_are_judged_at_not_after_plus_secrecy_years if {
	secrecy := testing.with_settings({"algorithms": {"secrecyYears": 5}})
	not "KD-CRT-004" in {f.rule | some f in testing.run([cert({})], testing.default_settings, {})}
	f := finding_at(cert({}), testing.now_s, secrecy, "KD-CRT-004")
	f.evidence.minBits == 3072
	f.evidence.minBitsFrom == "2031-01-01"
	f.evidence.judgedAt == "2027-03-01T00:00:00Z + 5 years"
	ca := cert({"certificate": {"isCA": true}})
	not "KD-CRT-004" in {f.rule | some f in testing.run([ca], secrecy, {})}
	"KD-CRT-004" in {f.rule | some f in run_at([ca], y2031, testing.default_settings)}
}

test_a_decrypt_only_denied_key_is_legacy_use_low if {
	legacy := testing.key({"algorithm": "3DES", "keySize": 168, "attributes": {"extractable": false, "sensitive": true, "exportable": null, "plaintextBackup": null, "appliesProtection": false}})
	f := testing.finding(legacy, "KD-ALG-001")
	f.severity == "low"
	f.evidence.reason == "legacy-use"
	able := testing.key({"algorithm": "3DES", "keySize": 168, "attributes": {"extractable": false, "sensitive": true, "exportable": null, "plaintextBackup": null, "appliesProtection": true}})
	testing.finding(able, "KD-ALG-001").severity == "high"
	unknown := testing.key({"algorithm": "3DES", "keySize": 168, "attributes": {"extractable": false, "sensitive": true, "exportable": null, "plaintextBackup": null, "appliesProtection": null}})
	testing.finding(unknown, "KD-ALG-001").severity == "high"
}

test_a_disabled_denied_key_that_could_encrypt_again_stays_high if {
	testing.finding(testing.key({"algorithm": "3DES", "keySize": 168, "state": "disabled"}), "KD-ALG-001").severity == "high"
}

hmac_sha1(overrides) := testing.key(object.union(
	{"algorithm": "HMAC-SHA1", "keyType": "hmac", "keySize": 256, "purpose": "mac", "rotation": {"supported": false, "automatic": false}},
	overrides,
))

test_hmac_sha1_retiring_before_2031_is_only_deprecated if {
	retiring := hmac_sha1({"expiresAt": "2029-06-30T00:00:00Z", "_t": {"expiresAt": 1877472000}})
	f := testing.finding(retiring, "KD-ALG-001")
	f.severity == "low"
	f.evidence.reason == "deprecated"

	# Last day of the deprecation: still deprecated; the key expiring after it applies a disallowed MAC.
	on_the_day := hmac_sha1({"expiresAt": "2030-12-31T12:00:00Z", "_t": {"expiresAt": 1924948800}})
	testing.finding(on_the_day, "KD-ALG-001").severity == "low"
	after := hmac_sha1({"expiresAt": "2031-06-30T00:00:00Z", "_t": {"expiresAt": 1940544000}})
	testing.finding(after, "KD-ALG-001").severity == "high"
	testing.finding(hmac_sha1({}), "KD-ALG-001").severity == "high"
}

test_hmac_sha1_is_disallowed_once_the_clock_passes_the_date if {
	retiring := hmac_sha1({"expiresAt": "2029-06-30T00:00:00Z", "_t": {"expiresAt": 1877472000}})
	finding_at(retiring, y2031, testing.default_settings, "KD-ALG-001").severity == "high"
	no_dates := json.remove(testing.default_settings, ["algorithms/deprecatedUntil_s"])
	finding_at(retiring, testing.now_s, no_dates, "KD-ALG-001").severity == "high"
}

test_key_establishment_keys_are_low if {
	encrypt := testing.finding(testing.key({"algorithm": "RSA-3072", "keyType": "rsa", "keySize": 3072}), "KD-ALG-003")
	encrypt.severity == "low"
	encrypt.evidence.purpose == "encrypt"
	contains(encrypt.evidence.reason, "recorded now and decrypted later")
	agree := testing.key({"algorithm": "EC-P256", "keyType": "ec", "keySize": 256, "purpose": "agree"})
	testing.finding(agree, "KD-ALG-003").severity == "low"
	mac := testing.key({"algorithm": "EC-P256", "keyType": "ec", "keySize": 256, "purpose": "tls"})
	testing.finding(mac, "KD-ALG-003").severity == "info"
}

ir8547 := testing.with_settings({"pqc": {"disallowedAfter": "2035-12-31", "disallowedAfter_s": 2082758399}})

test_quantum_vulnerable_keys_are_disallowed_after_the_ir_8547_date if {
	sign := testing.key({"algorithm": "EC-P256", "keyType": "ec", "keySize": 256, "purpose": "sign"})
	finding_at(sign, testing.now_s, ir8547, "KD-ALG-003").severity == "info"
	f := finding_at(sign, 2082758400, ir8547, "KD-ALG-003")
	f.severity == "high"
	f.evidence.disallowedAfter == "2035-12-31"
	f.evidence.reason == "in use or protecting data at now, after 2035-12-31, when quantum-vulnerable algorithms are disallowed"
}

test_data_that_must_stay_secret_past_the_date_is_disallowed_now if {
	# Retires in 2030, before the PQC deadline, but its data must stay secret until 2040.
	retiring := testing.key({"algorithm": "RSA-3072", "keyType": "rsa", "keySize": 3072, "expiresAt": "2030-06-01T00:00:00Z", "_t": {"expiresAt": 1906502400}})
	not "KD-ALG-003" in testing.rules_with(retiring, ir8547)
	secret := object.union(ir8547, {"algorithms": {"secrecyYears": 10}})
	f := finding_at(retiring, testing.now_s, secret, "KD-ALG-003")
	f.severity == "high"
	f.evidence.judgedAt == "2030-06-01T00:00:00Z + 10 years"
	sign := object.union(retiring, {"purpose": "sign"})
	not "KD-ALG-003" in testing.rules_with(sign, secret)
}
