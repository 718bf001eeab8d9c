package keydrift.hsm_test

import data.keydrift.testing

# --- KD-HSM-001 extractable / exportable ---

test_extractable_hsm_key_fires if {
	item := testing.key({"provider": "pkcs11", "attributes": {"extractable": true, "sensitive": true, "exportable": null, "plaintextBackup": null}})
	f := testing.finding(item, "KD-HSM-001")
	f.severity == "high"
	f.evidence.attribute == "extractable"
}

test_not_sensitive_fires if {
	f := testing.finding(testing.key({"attributes": {"extractable": false, "sensitive": false, "exportable": null, "plaintextBackup": null}}), "KD-HSM-001")
	f.evidence.attribute == "sensitive"
	f.evidence.value == false
}

test_transit_exportable_or_plaintext_backup_fires_once if {
	item := testing.key({"provider": "vault-transit", "attributes": {"extractable": null, "sensitive": null, "exportable": true, "plaintextBackup": true}})
	count([f | some f in testing.findings(item); f.rule == "KD-HSM-001"]) == 1
	count(testing.finding(item, "KD-HSM-001").evidence.attributes) == 2
}

test_unknown_attributes_are_not_judged if {
	not "KD-HSM-001" in testing.rules(testing.key({"attributes": {"extractable": null, "sensitive": null, "exportable": null, "plaintextBackup": null}}))
	not "KD-HSM-001" in testing.rules(testing.key({"attributes": null}))
	not "KD-HSM-001" in testing.rules(testing.key({"attributes": {"extractable": false, "sensitive": true, "exportable": false, "plaintextBackup": false}}))
}

# --- KD-HSM-002 tier needs an HSM ---

test_software_kek_fires if {
	f := testing.finding(testing.key({"tier": "kek", "protection": "software"}), "KD-HSM-002")
	f.severity == "medium"
	f.evidence.tier == "kek"
}

test_external_root_fires_hsm_or_unknown_does_not if {
	"KD-HSM-002" in testing.rules(testing.key({"tier": "root", "protection": "external"}))
	not "KD-HSM-002" in testing.rules(testing.key({"tier": "kek", "protection": "hsm"}))
	not "KD-HSM-002" in testing.rules(testing.key({"tier": "kek", "protection": "unknown"}))
}

test_other_tiers_or_no_tier_do_not_need_an_hsm if {
	not "KD-HSM-002" in testing.rules(testing.key({"tier": "dek", "protection": "software"}))
	not "KD-HSM-002" in testing.rules(testing.key({"protection": "software"}))
	settings := testing.with_settings({"protection": {"hsmTiers": ["dek"]}})
	"KD-HSM-002" in testing.rules_with(testing.key({"tier": "dek", "protection": "software"}), settings)
}

test_public_key_objects_are_not_secrets if {
	item := testing.key({"provider": "pkcs11", "evidence": {"class": "CKO_PUBLIC_KEY"}, "attributes": {"extractable": true, "sensitive": false, "exportable": null, "plaintextBackup": null}})
	not "KD-HSM-001" in testing.rules(item)
}

# --- KD-HSM-001 level wrapped-only (PCI DSS 3.6.1.2: encrypted under a key-encrypting key) ---

wrapped(overrides) := testing.key({"provider": "pkcs11", "attributes": object.union(
	{"extractable": true, "sensitive": true, "exportable": null, "plaintextBackup": null, "wrapWithTrusted": true},
	overrides,
)})

test_a_key_that_leaves_only_under_a_trusted_wrapping_key_is_low if {
	f := testing.finding(wrapped({}), "KD-HSM-001")
	f.severity == "low"
	f.evidence.attribute == "extractable"
	f.evidence.wrapWithTrusted == true
}

test_any_wrapping_key_or_a_readable_value_stays_high if {
	testing.finding(wrapped({"wrapWithTrusted": false}), "KD-HSM-001").severity == "high"
	testing.finding(wrapped({"wrapWithTrusted": null}), "KD-HSM-001").severity == "high"
	testing.finding(wrapped({"sensitive": false}), "KD-HSM-001").severity == "high"
	testing.finding(wrapped({"sensitive": null}), "KD-HSM-001").severity == "high"
	testing.finding(wrapped({"plaintextBackup": true}), "KD-HSM-001").severity == "high"
	f := testing.finding(testing.key({"attributes": {"extractable": true, "sensitive": true, "exportable": null, "plaintextBackup": null}}), "KD-HSM-001")
	f.severity == "high"
	f.evidence.wrapWithTrusted == null
}
