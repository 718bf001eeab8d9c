package keydrift.access_test

import data.keydrift.testing

test_public_key_is_critical if {
	item := testing.key({"access": {"public": true, "adminAndUse": []}, "evidence": {"publicPrincipals": ["*"], "publicActions": ["kms:Decrypt"], "publicGrantSource": "key policy statement Public"}})
	f := testing.finding(item, "KD-ACC-001")
	f.severity == "critical"
	f.evidence.actions == ["kms:Decrypt"]
}

test_public_unknown_or_false_does_not_fire if {
	not "KD-ACC-001" in testing.rules(testing.key({"access": {"public": null, "adminAndUse": []}}))
	not "KD-ACC-001" in testing.rules(testing.key({"access": null}))
}

test_public_key_pending_deletion_is_not_judged if {
	not "KD-ACC-001" in testing.rules(testing.key({"state": "pending-deletion", "access": {"public": true, "adminAndUse": []}}))
}

test_admin_and_use_overlap_fires if {
	item := testing.key({"access": {"public": false, "adminAndUse": ["arn:aws:iam::111122223333:role/b", "arn:aws:iam::111122223333:role/a"]}})
	f := testing.finding(item, "KD-ACC-002")
	f.severity == "medium"
	f.evidence.principalCount == 2
	f.evidence.principals == ["arn:aws:iam::111122223333:role/a", "arn:aws:iam::111122223333:role/b"]
}

test_no_overlap_does_not_fire if {
	not "KD-ACC-002" in testing.rules(testing.key({}))
}

# --- KD-ACC-003 other accounts ---

partner_decrypt := {"principal": "arn:aws:iam::444455556666:role/Reader", "account": "444455556666", "actions": ["kms:Decrypt"], "decrypt": true, "source": "key policy statement Partner"}

partner_encrypt := {"principal": "arn:aws:iam::999988887777:root", "account": "999988887777", "actions": ["Encrypt"], "decrypt": false, "source": "grant g-1"}

test_other_account_decrypt_is_high if {
	item := testing.key({"access": {"public": false, "adminAndUse": [], "externalUse": [partner_encrypt, partner_decrypt]}})
	f := testing.finding(item, "KD-ACC-003")
	f.severity == "high"
	f.evidence.canDecrypt == true
	f.evidence.accounts == ["444455556666", "999988887777"]
	f.evidence.sources == ["grant g-1", "key policy statement Partner"]
	f.evidence.principals == ["arn:aws:iam::444455556666:role/Reader", "arn:aws:iam::999988887777:root"]
}

test_other_account_use_without_decrypt_is_medium if {
	f := testing.finding(testing.key({"access": {"public": false, "adminAndUse": [], "externalUse": [partner_encrypt]}}), "KD-ACC-003")
	f.severity == "medium"
	f.evidence.canDecrypt == false
}

test_trusted_accounts_are_not_reported if {
	item := testing.key({"access": {"public": false, "adminAndUse": [], "externalUse": [partner_encrypt, partner_decrypt]}})
	settings := testing.with_settings({"access": {"trustedAccounts": ["444455556666"], "allowMultiRegion": true}})
	found := testing.run([item], settings, {})
	f := [f | some f in found; f.rule == "KD-ACC-003"][0]
	f.severity == "medium"
	f.evidence.accounts == ["999988887777"]
	all_trusted := testing.with_settings({"access": {"trustedAccounts": ["444455556666", "999988887777"], "allowMultiRegion": true}})
	not "KD-ACC-003" in {f.rule | some f in testing.run([item], all_trusted, {})}
}

test_unknown_or_no_external_use_does_not_fire if {
	not "KD-ACC-003" in testing.rules(testing.key({"access": {"public": false, "adminAndUse": [], "externalUse": null}}))
	not "KD-ACC-003" in testing.rules(testing.key({"access": {"public": false, "adminAndUse": [], "externalUse": []}}))
	not "KD-ACC-003" in testing.rules(testing.key({}))
	not "KD-ACC-003" in testing.rules(testing.key({"access": null}))
	not "KD-ACC-003" in testing.rules(testing.key({"state": "pending-deletion", "access": {"public": false, "adminAndUse": [], "externalUse": [partner_decrypt]}}))
}

# --- KD-ACC-004 multi-Region key material ---

multi_region := {"replication": {"multiRegion": true, "role": "replica", "regions": ["eu-west-1", "us-east-1"]}}

deny_multi_region := testing.with_settings({"access": {"trustedAccounts": [], "allowMultiRegion": false}})

test_replicated_key_fires_when_multi_region_is_denied if {
	found := testing.run([testing.key(multi_region)], deny_multi_region, {})
	f := [f | some f in found; f.rule == "KD-ACC-004"][0]
	f.severity == "medium"
	f.evidence.regionCount == 2
	f.evidence.role == "replica"
	f.evidence.regions == ["eu-west-1", "us-east-1"]
}

test_multi_region_is_off_by_default if {
	not "KD-ACC-004" in testing.rules(testing.key(multi_region))
	allowed := testing.with_settings({"access": {"trustedAccounts": [], "allowMultiRegion": true}})
	not "KD-ACC-004" in {f.rule | some f in testing.run([testing.key(multi_region)], allowed, {})}
}

test_one_region_or_unknown_replication_does_not_fire if {
	lone_primary := testing.key({"replication": {"multiRegion": true, "role": "primary", "regions": ["us-east-1"]}})
	unknown := testing.key({"replication": null})
	deleting := testing.key(object.union(multi_region, {"state": "pending-deletion"}))
	found := testing.run([lone_primary, unknown, deleting, testing.key({})], deny_multi_region, {})
	not "KD-ACC-004" in {f.rule | some f in found}
}

# --- KD-ACC-005 one key, two purposes ---

attrs(extra) := object.union({"extractable": false, "sensitive": true, "exportable": null, "plaintextBackup": null}, extra)

test_sign_and_decrypt_attributes_fire_medium if {
	item := testing.key({"provider": "pkcs11", "attributes": attrs({"usages": ["decrypt", "unwrap", "sign"]})})
	f := testing.finding(item, "KD-ACC-005")
	f.severity == "medium"
	f.evidence.conflicting == ["sign", "decrypt", "unwrap"]
	f.evidence.fromKeyType == false
}

test_usages_fixed_by_key_type_are_low if {
	item := testing.key({"provider": "vault-transit", "attributes": attrs({"usages": ["encrypt", "decrypt", "sign", "verify"], "usagesFromKeyType": true})})
	f := testing.finding(item, "KD-ACC-005")
	f.severity == "low"
	f.evidence.conflicting == ["sign", "decrypt"]
	f.evidence.fromKeyType == true
}

test_single_purpose_or_unknown_usages_do_not_fire if {
	not "KD-ACC-005" in testing.rules(testing.key({"attributes": attrs({"usages": ["sign", "verify"]})}))
	not "KD-ACC-005" in testing.rules(testing.key({"attributes": attrs({"usages": ["encrypt", "decrypt", "wrap", "unwrap"]})}))
	not "KD-ACC-005" in testing.rules(testing.key({"attributes": attrs({"usages": null})}))
	not "KD-ACC-005" in testing.rules(testing.key({"attributes": attrs({})}))
	not "KD-ACC-005" in testing.rules(testing.key({"attributes": null}))
	not "KD-ACC-005" in testing.rules(testing.key({"state": "destroyed", "attributes": attrs({"usages": ["sign", "decrypt"]})}))
}
