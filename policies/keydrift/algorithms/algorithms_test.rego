package keydrift.algorithms_test

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
	f := testing.finding(testing.key({"algorithm": "RSA-3072", "keyType": "rsa", "keySize": 3072}), "KD-ALG-003")
	f.severity == "info"
	f.evidence.pqcDeadline == "2030-12-31"
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
