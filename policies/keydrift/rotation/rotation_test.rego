package keydrift.rotation_test

import data.keydrift.testing

day := testing.day

now_s := testing.now_s

# --- KD-ROT-001 rotation off ---

# Rotated 100 days ago: still within the 365-day cryptoperiod, so the gap is medium (AWS Security
# Hub KMS.4); once the material outlives the cryptoperiod the key is used beyond it: high.
test_rotation_off_fires if {
	f := testing.finding(testing.key({"rotation": {"automatic": false}}), "KD-ROT-001")
	f.severity == "medium"
	f.evidence.rotationAutomatic == false
	f.evidence.maxDays == 365
}

test_rotation_off_on_material_beyond_the_cryptoperiod_is_high if {
	stale := testing.key({"rotation": {"automatic": false, "lastRotatedAt": null}, "_t": {"lastRotatedAt": null}})
	testing.finding(stale, "KD-ROT-001").severity == "high"
	"KD-ROT-003" in testing.rules(stale)

	# Exactly max + grace days old is still within: medium.
	edge := testing.key({"rotation": {"automatic": false}, "_t": {"lastRotatedAt": now_s - (372 * day)}})
	testing.finding(edge, "KD-ROT-001").severity == "medium"
}

test_rotation_off_with_unknown_material_age_is_high if {
	unknown := testing.key({"rotation": {"automatic": false, "lastRotatedAt": null}, "createdAt": null, "_t": {"lastRotatedAt": null, "createdAt": null}})
	testing.finding(unknown, "KD-ROT-001").severity == "high"
}

test_rotation_unknown_is_not_off if {
	not "KD-ROT-001" in testing.rules(testing.key({"rotation": {"automatic": null}}))
}

test_rotation_support_unknown_is_not_judged if {
	not "KD-ROT-001" in testing.rules(testing.key({"rotation": {"supported": null, "automatic": false}}))
}

test_asymmetric_keys_that_cannot_rotate_never_fire if {
	item := testing.key({"algorithm": "RSA-2048", "keyType": "rsa", "keySize": 2048, "purpose": "sign", "rotation": {"supported": false, "automatic": false}})
	not "KD-ROT-001" in testing.rules(item)
}

test_imported_material_never_fires_even_if_marked_supported if {
	not "KD-ROT-001" in testing.rules(testing.key({"origin": "imported", "rotation": {"automatic": false}}))
	not "KD-ROT-001" in testing.rules(testing.key({"origin": "external", "rotation": {"automatic": false}}))
}

test_provider_managed_never_fires if {
	not "KD-ROT-001" in testing.rules(testing.key({"managedBy": "provider", "rotation": {"automatic": false}}))
}

test_pending_deletion_and_disabled_keys_are_not_judged_on_cadence if {
	stale := {"rotation": {"automatic": false}, "_t": {"lastRotatedAt": now_s - (900 * day)}}
	count({r | some r in testing.rules(testing.key(object.union(stale, {"state": "pending-deletion"}))); startswith(r, "KD-ROT")}) == 0
	count({r | some r in testing.rules(testing.key(object.union(stale, {"state": "disabled"}))); startswith(r, "KD-ROT")}) == 0
}

test_unknown_rotation_leaves_only_the_material_age_rule if {
	item := object.union(json.remove(testing.key({}), ["rotation"]), {"rotation": null, "_t": {"lastRotatedAt": null, "nextRotationAt": null}})
	testing.rules(item) == {"KD-ROT-003"}
	testing.finding(item, "KD-ROT-003").evidence.materialSource == "createdAt"
}

# --- KD-ROT-002 period too long ---

test_period_longer_than_max_fires if {
	f := testing.finding(testing.key({"rotation": {"periodDays": 730}}), "KD-ROT-002")
	f.severity == "medium"
	f.evidence.periodDays == 730
	f.evidence.maxDays == 365
}

test_period_equal_to_max_does_not_fire if {
	not "KD-ROT-002" in testing.rules(testing.key({"rotation": {"periodDays": 365}}))
}

test_period_unknown_is_not_judged if {
	not "KD-ROT-002" in testing.rules(testing.key({"rotation": {"periodDays": null}}))
}

test_period_ignored_when_rotation_is_off if {
	not "KD-ROT-002" in testing.rules(testing.key({"rotation": {"automatic": false, "periodDays": 3650}}))
}

test_tier_overrides_max_days if {
	item := testing.key({"tier": "kek", "rotation": {"periodDays": 180}})
	tight := testing.with_settings({"rotation": {"maxDays": 90}})
	"KD-ROT-002" in {f.rule | some f in testing.run([item], testing.default_settings, {"kek": tight})}
	not "KD-ROT-002" in testing.rules(item)
}

test_purpose_max_days_replace_max_days if {
	settings := testing.with_settings({"rotation": {"purposeMaxDays": {"sign": 1095, "encrypt": 180}}})
	"KD-ROT-002" in testing.rules_with(testing.key({"rotation": {"periodDays": 365}}), settings)
	not "KD-ROT-002" in testing.rules_with(testing.key({"purpose": "sign", "rotation": {"periodDays": 1000}}), settings)
	"KD-ROT-002" in testing.rules_with(testing.key({"purpose": "mac", "rotation": {"periodDays": 400}}), settings)
}

# --- KD-ROT-003 material too old ---

test_material_older_than_max_plus_grace_fires if {
	f := testing.finding(testing.key({"_t": {"lastRotatedAt": (now_s - (372 * day)) - 1}}), "KD-ROT-003")
	f.severity == "high"
	f.evidence.materialSource == "lastRotatedAt"
	f.evidence.ageDays == 372
	f.evidence.maxDays == 365
	f.evidence.graceDays == 7
}

test_material_exactly_max_plus_grace_does_not_fire if {
	not "KD-ROT-003" in testing.rules(testing.key({"_t": {"lastRotatedAt": now_s - (372 * day)}}))
}

test_material_falls_back_to_primary_version_then_created_at if {
	versions := [
		{"id": "1", "primary": false, "state": "enabled", "decryptable": false, "createdAt": "2024-01-01T00:00:00Z", "_t": {"createdAt": now_s - (1035 * day), "supersededAt": null}},
		{"id": "2", "primary": true, "state": "enabled", "decryptable": true, "createdAt": "2026-01-01T00:00:00Z", "_t": {"createdAt": now_s - (304 * day), "supersededAt": null}},
	]
	fresh := testing.key({"rotation": {"lastRotatedAt": null}, "versions": versions, "_t": {"lastRotatedAt": null}})
	not "KD-ROT-003" in testing.rules(fresh)
	old := testing.key({"rotation": {"lastRotatedAt": null}, "_t": {"lastRotatedAt": null}})
	f := testing.finding(old, "KD-ROT-003")
	f.evidence.materialSource == "createdAt"
	f.evidence.ageDays == 1035
}

test_any_key_type_is_judged_on_material_age if {
	item := testing.key({"algorithm": "RSA-2048", "keyType": "rsa", "origin": "imported", "rotation": {"supported": false, "automatic": false, "lastRotatedAt": null}, "_t": {"lastRotatedAt": null}})
	"KD-ROT-003" in testing.rules(item)
}

test_material_age_unknown_is_not_judged if {
	item := testing.key({"rotation": {"lastRotatedAt": null}, "createdAt": null, "_t": {"lastRotatedAt": null, "createdAt": null}})
	not "KD-ROT-003" in testing.rules(item)
}

# --- KD-ROT-004 rotation overdue ---

test_overdue_rotation_fires if {
	f := testing.finding(testing.key({"_t": {"nextRotationAt": (now_s - (7 * day)) - 1}}), "KD-ROT-004")
	f.severity == "high"
	f.evidence.overdueDays == 7
	f.evidence.maxDays == 365
}

test_overdue_within_grace_does_not_fire if {
	not "KD-ROT-004" in testing.rules(testing.key({"_t": {"nextRotationAt": now_s - (7 * day)}}))
}

test_next_rotation_unknown_or_rotation_off_is_not_judged if {
	not "KD-ROT-004" in testing.rules(testing.key({"_t": {"nextRotationAt": null}}))
	not "KD-ROT-004" in testing.rules(testing.key({"rotation": {"automatic": false}, "_t": {"nextRotationAt": now_s - (30 * day)}}))
}

# --- rotation.scopedMaxDays (profile cis-gcp: 90 days for Cloud KMS symmetric encryption keys) ---

cis_gcp := testing.with_settings({"rotation": {"scopedMaxDays": [{"provider": ["gcp-kms"], "purpose": ["encrypt"], "keyType": ["symmetric"], "maxDays": 90}]}})

gcp_key(overrides) := testing.key(object.union({"provider": "gcp-kms", "uid": "projects/p/locations/l/keyRings/r/cryptoKeys/k"}, overrides))

test_a_scoped_entry_holds_only_the_keys_it_names if {
	f := [f | some f in testing.run([gcp_key({})], cis_gcp, {}); f.rule == "KD-ROT-003"][0]
	f.evidence.maxDays == 90
	f.evidence.maxDaysFrom == "rotation.scopedMaxDays"
	g := [f | some f in testing.run([gcp_key({"rotation": {"periodDays": 100}})], cis_gcp, {}); f.rule == "KD-ROT-002"][0]
	g.evidence.maxDays == 90
	not "KD-ROT-003" in testing.rules_with(testing.key({}), cis_gcp)
	asymmetric := gcp_key({"algorithm": "RSA-2048", "keyType": "rsa", "keySize": 2048})
	not "KD-ROT-003" in testing.rules_with(asymmetric, cis_gcp)
	mac := gcp_key({"algorithm": "HMAC-SHA256", "keyType": "hmac", "purpose": "mac"})
	not "KD-ROT-003" in testing.rules_with(mac, cis_gcp)
	pqc := gcp_key({"algorithm": "ML-DSA-65", "keyType": "pqc", "keySize": null, "purpose": "sign"})
	not "KD-ROT-003" in testing.rules_with(pqc, cis_gcp)
}

test_the_strictest_matching_entry_wins_over_purpose_and_max_days if {
	settings := testing.with_settings({"rotation": {
		"purposeMaxDays": {"encrypt": 30},
		"scopedMaxDays": [{"keyType": ["symmetric"], "maxDays": 200}, {"purpose": ["encrypt", "wrap"], "maxDays": 150}],
	}})
	f := [f | some f in testing.run([testing.key({"rotation": {"periodDays": 180}})], settings, {}); f.rule == "KD-ROT-002"][0]
	f.evidence.maxDays == 150
	f.evidence.maxDaysFrom == "rotation.scopedMaxDays"
	purpose_only := testing.with_settings({"rotation": {"purposeMaxDays": {"encrypt": 30}}})
	g := [f | some f in testing.run([testing.key({"rotation": {"periodDays": 180}})], purpose_only, {}); f.rule == "KD-ROT-002"][0]
	g.evidence.maxDaysFrom == "rotation.purposeMaxDays.encrypt"
	h := testing.finding(testing.key({"rotation": {"periodDays": 400}}), "KD-ROT-002")
	h.evidence.maxDaysFrom == "rotation.maxDays"
}

test_settings_without_a_scoped_table_read_as_none if {
	bare := json.remove(testing.default_settings, ["rotation/scopedMaxDays"])
	testing.finding(testing.key({"rotation": {"periodDays": 400}}), "KD-ROT-002").evidence.maxDays == 365
	"KD-ROT-002" in testing.rules_with(testing.key({"rotation": {"periodDays": 400}}), bare)
}

test_rotation_off_uses_the_scoped_cryptoperiod_for_its_level if {
	# 100 days since rotation: within 365, beyond 90 + 7 for a Cloud KMS symmetric key under cis-gcp.
	off := gcp_key({"rotation": {"automatic": false}})
	f := [f | some f in testing.run([off], cis_gcp, {}); f.rule == "KD-ROT-001"][0]
	f.severity == "high"
	f.evidence.maxDays == 90
	testing.finding(off, "KD-ROT-001").severity == "medium"
}
