package keydrift.retirement_test

import data.keydrift.testing

day := testing.day

now_s := testing.now_s

# --- KD-RET-001 disabled too long ---

test_disabled_longer_than_limit_fires if {
	f := testing.finding(testing.key({"state": "disabled", "stateSince": "2026-07-01T00:00:00Z", "_t": {"stateSince": (now_s - (90 * day)) - 1}}), "KD-RET-001")
	f.severity == "medium"
	f.evidence.disabledDays == 90
}

test_disabled_since_source_comes_from_the_item_evidence if {
	since := now_s - (120 * day)
	from_trail := testing.key({"state": "disabled", "stateSince": "2026-07-04T00:00:00Z", "evidence": {"stateSinceSource": "cloudtrail"}, "_t": {"stateSince": since}})
	testing.finding(from_trail, "KD-RET-001").evidence.disabledSinceSource == "cloudtrail"
	testing.finding(testing.key({"state": "disabled", "_t": {"stateSince": since}}), "KD-RET-001").evidence.disabledSinceSource == null
}

test_disabled_exactly_limit_or_unknown_since_does_not_fire if {
	not "KD-RET-001" in testing.rules(testing.key({"state": "disabled", "_t": {"stateSince": now_s - (90 * day)}}))
	not "KD-RET-001" in testing.rules(testing.key({"state": "disabled", "_t": {"stateSince": null}}))
}

test_disabled_with_deletion_scheduled_does_not_fire if {
	item := testing.key({"state": "disabled", "deletion": {"scheduledFor": "2026-12-01T00:00:00Z"}, "_t": {"stateSince": now_s - (200 * day), "deletionScheduledFor": now_s + (30 * day)}})
	not "KD-RET-001" in testing.rules(item)
}

# --- KD-RET-002 legal hold ---

test_deletion_under_legal_hold_is_critical if {
	item := testing.key({"state": "pending-deletion", "tags": {"legal-hold": "case-1234"}, "deletion": {"scheduledFor": "2026-11-08T00:00:00Z"}, "_t": {"deletionScheduledFor": now_s + (7 * day)}})
	f := testing.finding(item, "KD-RET-002")
	f.severity == "critical"
	f.evidence.legalHoldValue == "case-1234"
}

test_pending_deletion_state_alone_counts_as_scheduled if {
	"KD-RET-002" in testing.rules(testing.key({"state": "pending-deletion", "tags": {"legal-hold": "true"}}))
}

test_no_or_false_legal_hold_does_not_fire if {
	not "KD-RET-002" in testing.rules(testing.key({"state": "pending-deletion", "tags": {}}))
	not "KD-RET-002" in testing.rules(testing.key({"state": "pending-deletion", "tags": {"legal-hold": "False"}}))
	not "KD-RET-002" in testing.rules(testing.key({"state": "pending-deletion", "tags": {"legal-hold": ""}}))
	not "KD-RET-002" in testing.rules(testing.key({"tags": {"legal-hold": "yes"}}))
}

test_only_the_listed_values_mean_no_hold if {
	every value in ["off", "OFF", "None", "released", " no ", "Released "] {
		not "KD-RET-002" in testing.rules(testing.key({"state": "pending-deletion", "tags": {"legal-hold": value}}))
	}
	every value in ["yes", "true", "on", "1", "case-1234", "2027-01-31", "hold until released"] {
		"KD-RET-002" in testing.rules(testing.key({"state": "pending-deletion", "tags": {"legal-hold": value}}))
	}
}

test_legal_hold_tag_name_is_a_setting if {
	settings := testing.with_settings({"retirement": {"legalHoldTag": "LegalHold"}})
	"KD-RET-002" in testing.rules_with(testing.key({"state": "pending-deletion", "tags": {"LegalHold": "1"}}), settings)
}

# --- KD-RET-006 deletion scheduled, no legal hold ---

pending(overrides) := testing.key(object.union(
	{"state": "pending-deletion", "deletion": {"scheduledFor": "2026-11-08T00:00:00Z"}, "_t": {"deletionScheduledFor": now_s + (7 * day)}},
	overrides,
))

test_unreferenced_key_pending_deletion_is_low if {
	f := testing.finding(pending({}), "KD-RET-006")
	f.severity == "low"
	f.evidence == {"scheduledFor": "2026-11-08T00:00:00Z", "daysLeft": 7, "aliases": 0, "grants": 0, "referenced": false}
	testing.finding(pending({"tags": {"legal-hold": "released"}}), "KD-RET-006").severity == "low"
}

test_a_key_an_alias_or_grant_still_points_at_is_high if {
	by_alias := testing.finding(pending({"evidence": {"aliases": ["alias/orders"]}}), "KD-RET-006")
	by_alias.severity == "high"
	by_alias.evidence.aliases == 1
	by_alias.evidence.referenced == true
	by_grant := testing.finding(pending({"evidence": {"aliases": [], "grantCount": 2}}), "KD-RET-006")
	by_grant.severity == "high"
	by_grant.evidence.grants == 2
}

test_grants_not_collected_do_not_count_as_a_reference if {
	f := testing.finding(pending({"evidence": {"grantsCollected": false}}), "KD-RET-006")
	f.severity == "low"
	f.evidence.grants == null
	testing.finding(pending({"evidence": {"grantCount": null}}), "KD-RET-006").evidence.grants == 0
}

test_held_keys_are_ret_002_never_ret_006 if {
	item := pending({"tags": {"legal-hold": "case-1234"}, "evidence": {"aliases": ["alias/ledger"]}})
	"KD-RET-002" in testing.rules(item)
	not "KD-RET-006" in testing.rules(item)
}

test_a_version_scheduled_on_an_enabled_key_counts_with_its_date if {
	item := testing.key({"deletion": {"scheduledFor": "2026-12-01T00:00:00Z"}, "_t": {"deletionScheduledFor": now_s + (30 * day)}})
	testing.finding(item, "KD-RET-006").evidence.daysLeft == 30
}

test_pending_deletion_without_a_date_has_no_days_left if {
	f := testing.finding(testing.key({"state": "pending-deletion"}), "KD-RET-006")
	f.evidence.scheduledFor == null
	f.evidence.daysLeft == null
}

test_keys_with_nothing_scheduled_or_provider_managed_are_not_judged if {
	not "KD-RET-006" in testing.rules(testing.key({}))
	not "KD-RET-006" in testing.rules(testing.key({"state": "disabled"}))
	not "KD-RET-006" in testing.rules(pending({"managedBy": "provider"}))
}

# --- KD-RET-003 old versions still decrypt ---

version(id, primary, decryptable, created_days_ago) := {
	"id": id,
	"primary": primary,
	"state": "enabled",
	"decryptable": decryptable,
	"createdAt": "2024-01-01T00:00:00Z",
	"supersededAt": null,
	"_t": {"createdAt": now_s - (created_days_ago * day), "supersededAt": null},
}

test_version_superseded_long_ago_still_decrypting_fires if {
	# version 2 was superseded by version 3 only 50 days ago: not old yet
	item := testing.key({"versions": [version("1", false, true, 400), version("2", false, true, 200), version("3", true, true, 50)]})
	f := testing.finding(item, "KD-RET-003")
	f.severity == "medium"
	f.evidence.versionId == "1"
	f.evidence.daysSinceSuperseded == 200
	f.evidence.decryptableVersions == ["1"]
}

test_version_superseded_today_or_exactly_at_limit_is_not_old if {
	not "KD-RET-003" in testing.rules(testing.key({"versions": [version("1", false, true, 400), version("2", true, true, 0)]}))
	not "KD-RET-003" in testing.rules(testing.key({"versions": [version("1", false, true, 400), version("2", true, true, 90)]}))
	"KD-RET-003" in testing.rules(testing.key({"versions": [version("1", false, true, 400), version("2", true, true, 91)]}))
}

test_explicit_superseded_at_wins if {
	v1 := object.union(version("1", false, true, 400), {"supersededAt": "2026-10-01T00:00:00Z", "_t": {"supersededAt": now_s - (31 * day)}})
	not "KD-RET-003" in testing.rules(testing.key({"versions": [v1, version("2", true, true, 300)]}))
}

test_versions_that_cannot_decrypt_or_unknown_are_not_judged if {
	not "KD-RET-003" in testing.rules(testing.key({"versions": [version("1", false, false, 400), version("2", true, true, 300)]}))
	not "KD-RET-003" in testing.rules(testing.key({"versions": [version("1", false, null, 400), version("2", true, true, 300)]}))
	destroyed := object.union(version("1", false, true, 400), {"state": "destroyed"})
	not "KD-RET-003" in testing.rules(testing.key({"versions": [destroyed, version("2", true, true, 300)]}))
}

test_newest_non_primary_without_successor_is_not_judged if {
	not "KD-RET-003" in testing.rules(testing.key({"versions": [version("1", true, true, 400), version("2", false, true, 300)]}))
}

# --- KD-RET-004 / KD-RET-005 key-material expiry ---

test_material_expiring_within_warn_is_medium_within_fail_is_high if {
	testing.finding(testing.key({"expiresAt": "2026-11-21T00:00:00Z", "_t": {"expiresAt": now_s + (20 * day)}}), "KD-RET-004").severity == "medium"
	testing.finding(testing.key({"expiresAt": "2026-11-06T00:00:00Z", "_t": {"expiresAt": now_s + (5 * day)}}), "KD-RET-004").severity == "high"
	testing.finding(testing.key({"expiresAt": "2026-11-08T00:00:00Z", "_t": {"expiresAt": now_s + (7 * day)}}), "KD-RET-004").severity == "high"
	testing.finding(testing.key({"expiresAt": "2026-12-01T00:00:00Z", "_t": {"expiresAt": now_s + (30 * day)}}), "KD-RET-004").severity == "medium"
}

test_material_expiring_later_or_unknown_does_not_fire if {
	not "KD-RET-004" in testing.rules(testing.key({"_t": {"expiresAt": (now_s + (30 * day)) + 1}}))
	not "KD-RET-004" in testing.rules(testing.key({"_t": {"expiresAt": null}}))
}

test_expired_material_on_enabled_key_is_ret_005_not_ret_004 if {
	item := testing.key({"expiresAt": "2026-10-30T00:00:00Z", "_t": {"expiresAt": now_s - (2 * day)}})
	f := testing.finding(item, "KD-RET-005")
	f.severity == "high"
	f.evidence.daysExpired == 2
	not "KD-RET-004" in testing.rules(item)
}

test_expired_material_on_disabled_key_fires_neither if {
	item := testing.key({"state": "disabled", "_t": {"expiresAt": now_s - (2 * day)}})
	not "KD-RET-005" in testing.rules(item)
	not "KD-RET-004" in testing.rules(item)
}

test_material_expiring_at_this_second_is_not_expired if {
	item := testing.key({"expiresAt": "2026-11-01T00:00:00Z", "_t": {"expiresAt": now_s}})
	not "KD-RET-005" in testing.rules(item)
	testing.finding(item, "KD-RET-004").severity == "high"
}

# --- KD-RET-007 unusable after the imported material expired ---

test_unavailable_key_whose_material_expired_is_high if {
	item := testing.key({"state": "unavailable", "origin": "imported", "expiresAt": "2026-10-27T00:00:00Z", "evidence": {"KeyState": "PendingImport"}, "_t": {"expiresAt": now_s - (5 * day)}})
	f := testing.finding(item, "KD-RET-007")
	f.severity == "high"
	f.evidence == {"expiresAt": "2026-10-27T00:00:00Z", "daysExpired": 5, "state": "unavailable", "providerState": "PendingImport", "expiresAtSource": "provider"}
	not "KD-RET-005" in testing.rules(item)
}

test_expiry_carried_from_the_baseline_says_so if {
	item := testing.key({"state": "unavailable", "expiresAt": "2026-10-27T00:00:00Z", "evidence": {"expiresAtSource": "baseline"}, "_t": {"expiresAt": now_s - (5 * day)}})
	f := testing.finding(item, "KD-RET-007")
	f.evidence.expiresAtSource == "baseline"
	f.evidence.providerState == null
}

test_unavailable_key_without_a_past_expiry_is_not_ret_007 if {
	not "KD-RET-007" in testing.rules(testing.key({"state": "unavailable", "_t": {"expiresAt": null}}))
	not "KD-RET-007" in testing.rules(testing.key({"state": "unavailable", "_t": {"expiresAt": now_s}}))
	not "KD-RET-007" in testing.rules(testing.key({"state": "unavailable", "_t": {"expiresAt": now_s + day}}))
	not "KD-RET-007" in testing.rules(testing.key({"state": "disabled", "_t": {"expiresAt": now_s - day}}))
	not "KD-RET-007" in testing.rules(testing.key({"state": "unavailable", "managedBy": "provider", "_t": {"expiresAt": now_s - day}}))
}
