package keydrift.drift_test

import data.keydrift.main
import data.keydrift.testing

arn_a := "arn:aws:kms:us-east-1:111122223333:key/aaaa"

arn_b := "arn:aws:kms:us-east-1:111122223333:key/bbbb"

# A key declared in a state file: its ARN is its strong identity.
declared(overrides) := object.union(
	testing.key({
		"uid": arn_a,
		"sourceId": "iac",
		"name": "aws_kms_key.orders",
		"location": "111122223333/us-east-1",
		"declared": true,
		"address": "aws_kms_key.orders",
		"declaredIn": {"file": "infra/state.json", "line": 12, "column": 9, "attributes": {"rotation.periodDays": {"line": 20, "column": 11}, "rotation.automatic": {"line": 18, "column": 11}, "tags": {"line": 25, "column": 11}}},
		"tags": {"team": "orders"},
		"_drift": {"strong": [concat("|", ["aws-kms", "id", arn_a])], "weak": [], "scope": "aws-kms|111122223333/us-east-1"},
	}),
	overrides,
)

live_summary(overrides) := object.union(
	{
		"uid": arn_a, "name": "alias/orders", "location": "111122223333/us-east-1", "sourceId": "aws", "state": "enabled",
		"settings": {"state": "enabled", "rotation.automatic": true, "rotation.periodDays": 365, "tags": {"team": "orders"}},
	},
	overrides,
)

index(live) := index_managing(live, {arn_b: true})

index_managing(live, managed) := {
	"active": true,
	"declaredComplete": true,
	"live": live,
	"declared": {concat("|", ["aws-kms", "id", arn_a]): true},
	"scopes": {"aws-kms|111122223333/us-east-1": true},
	"providers": {"aws-kms": true},
	"managed": managed,
}

run(items, idx) := found if {
	found := main.findings with input as {"now_s": testing.now_s, "items": items, "sources": [], "waivers": []}
		with data.settings as testing.default_settings
		with data.tierSettings as {}
		with data.driftIndex as idx
}

drift(items, idx) := {f.rule: f | some f in run(items, idx); startswith(f.rule, "KD-DRF-")}

# --- KD-DRF-001 ---

test_declared_key_missing_live_fires if {
	found := drift([declared({})], index({}))
	found["KD-DRF-001"].evidence.liveState == "missing"
	found["KD-DRF-001"].evidence.declaredAt == "infra/state.json:12"
	found["KD-DRF-001"].evidence.declaredId == concat("|", ["id", arn_a])
	found["KD-DRF-001"].severity == "medium"
	# Without a position (a snapshot made before positions were kept) the address stands in.
	without := drift([object.remove(declared({}), ["declaredIn"])], index({}))
	without["KD-DRF-001"].evidence.declaredAt == "aws_kms_key.orders"
}

test_declared_key_scheduled_for_deletion_is_missing if {
	live := {concat("|", ["aws-kms", "id", arn_a]): [live_summary({"state": "pending-deletion"})]}
	f := drift([declared({})], index(live))["KD-DRF-001"]
	f.evidence.liveState == "pending-deletion"
	f.evidence.liveUid == arn_a
}

test_declared_key_present_live_does_not_fire if {
	live := {concat("|", ["aws-kms", "id", arn_a]): [live_summary({})]}
	count(drift([declared({})], index(live))) == 0
}

test_missing_only_where_a_live_source_looked if {
	# The declaration names another region: no complete live source read it.
	item := declared({"_drift": {"strong": ["aws-kms|id|arn:aws:kms:eu-west-1:111122223333:key/cccc"], "weak": [], "scope": "aws-kms|111122223333/eu-west-1"}})
	not drift([item], index({}))["KD-DRF-001"]
}

test_no_drift_without_both_sides if {
	count(drift([declared({})], object.union(index({}), {"active": false}))) == 0
	count(drift([declared({})], {"active": false})) == 0
}

test_name_only_declaration_matches_by_alias if {
	item := declared({"uid": "terraform:main.tf#aws_kms_key.orders", "_drift": {"strong": [], "weak": ["aws-kms|alias:alias/orders"], "scope": null}})
	count(drift([item], index({}))) == 1
	drift([item], index({}))["KD-DRF-001"].evidence.declaredId == "alias:alias/orders"
	live := {"aws-kms|alias:alias/orders": [live_summary({})]}
	count(drift([item], index(live))) == 0
}

test_strong_identity_is_not_satisfied_by_an_alias if {
	# The declared ARN is gone; a key re-created by hand carries the alias: still missing.
	item := declared({"_drift": {"strong": [concat("|", ["aws-kms", "id", arn_a])], "weak": ["aws-kms|alias:alias/orders"], "scope": "aws-kms|111122223333/us-east-1"}})
	live := {"aws-kms|alias:alias/orders": [live_summary({"uid": arn_b})]}
	drift([item], index(live))["KD-DRF-001"]
}

# --- KD-DRF-003 ---

test_changed_rotation_period_fires_with_both_values if {
	live := {concat("|", ["aws-kms", "id", arn_a]): [live_summary({"settings": {"rotation.periodDays": 180}})]}
	f := drift([declared({})], index(live))["KD-DRF-003"]
	f.evidence.setting == "rotation.periodDays"
	f.evidence.liveValue == 180
	f.evidence.declaredValue == 365
	f.evidence.liveUid == arn_a
	count(f.evidence.differences) == 1
}

test_every_difference_in_one_finding_sorted if {
	live := {concat("|", ["aws-kms", "id", arn_a]): [live_summary({"settings": {"rotation.periodDays": 180, "rotation.automatic": false, "tags": {"team": "payments"}}})]}
	f := drift([declared({})], index(live))["KD-DRF-003"]
	[d.setting | some d in f.evidence.differences] == ["rotation.automatic", "rotation.periodDays", "tags.team"]
	f.evidence.setting == "rotation.automatic"
}

test_a_tag_missing_live_is_drift if {
	summary := object.union(object.remove(live_summary({}), ["settings"]), {"settings": {"rotation.periodDays": 365, "tags": {}}})
	live := {concat("|", ["aws-kms", "id", arn_a]): [summary]}
	f := drift([declared({})], index(live))["KD-DRF-003"]
	f.evidence.setting == "tags.team"
	f.evidence.liveValue == "(absent)"
}

test_settings_the_code_does_not_set_or_either_side_does_not_know_are_not_compared if {
	# keySize differs, but the declaration has no line for it; periodDays is unknown live.
	live := {concat("|", ["aws-kms", "id", arn_a]): [{
		"uid": arn_a, "name": "x", "location": "l", "sourceId": "aws", "state": "enabled",
		"settings": {"keySize": 4096, "rotation.automatic": true, "tags": {"team": "orders"}},
	}]}
	count(drift([declared({})], index(live))) == 0
}

test_ambiguous_name_match_is_not_compared if {
	item := declared({"uid": "terraform:main.tf#aws_kms_key.orders", "_drift": {"strong": [], "weak": ["aws-kms|alias:alias/orders"], "scope": null}})
	live := {"aws-kms|alias:alias/orders": [live_summary({"settings": {"rotation.periodDays": 90}}), live_summary({"uid": arn_b, "settings": {"rotation.periodDays": 90}})]}
	count(drift([item], index(live))) == 0
}

# --- KD-DRF-002 ---

undeclared := testing.key({"uid": arn_b, "sourceId": "aws", "_drift": {"strong": [concat("|", ["aws-kms", "id", arn_b])], "weak": ["aws-kms|alias:alias/legacy"], "scope": "aws-kms|111122223333/us-east-1"}})

test_undeclared_key_in_a_managed_scope_fires if {
	f := drift([undeclared], index({}))["KD-DRF-002"]
	f.severity == "low"
	f.evidence.sourceId == "aws"
	f.evidence.identities == [concat("|", ["aws-kms", "id", arn_b]), "aws-kms|alias:alias/legacy"]
}

test_undeclared_key_outside_managed_scopes_does_not_fire if {
	not drift([undeclared], index_managing({}, {}))["KD-DRF-002"]
}

test_a_key_declared_by_alias_is_declared if {
	idx := object.union(index({}), {"declared": {"aws-kms|alias:alias/legacy": true}})
	not drift([undeclared], idx)["KD-DRF-002"]
}

test_not_judged_when_a_declaring_source_was_partial if {
	not drift([undeclared], object.union(index({}), {"declaredComplete": false}))["KD-DRF-002"]
}

test_deleted_or_provider_managed_keys_are_not_undeclared if {
	not drift([object.union(undeclared, {"state": "pending-deletion"})], index({}))["KD-DRF-002"]
	not drift([object.union(undeclared, {"managedBy": "provider"})], index({}))["KD-DRF-002"]
}
