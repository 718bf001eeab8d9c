# METADATA
# title: Declared-versus-live drift (KD-DRF-001..003)
# description: |
#   Keys declared in infrastructure code (item.declared) against the keys live sources collected.
#   The engine evaluates items in batches, so the live side is looked up in data.driftIndex
#   (src/drift/index.ts: grouping only); each item carries its identities as item._drift
#   (src/drift/identity.ts). A declaration with a strong identity (ARN, Cloud KMS resource name,
#   Vault mount and key) is matched by it alone; one with only names (an alias, a key name) by
#   those. Nothing is judged unless both sides are in the run.
package keydrift.drift

import data.keydrift.lib

index := data.driftIndex if {
	is_object(data.driftIndex)
} else := {"active": false}

gone_states := {"pending-deletion", "destroyed"}

declared_key(item) if {
	index.active == true
	item.declared == true
	item.kind == "key"
	is_object(item._drift)
}

identities(item) := item._drift.strong if {
	count(item._drift.strong) > 0
} else := item._drift.weak

# Live keys that match the declaration.
live_matches(item) := [summary |
	some identity in identities(item)
	some summary in object.get(index.live, identity, [])
]

usable_matches(item) := [summary |
	some summary in live_matches(item)
	not summary.state in gone_states
]

# A declared key is expected live where a completely read source looked: the place its strong
# identity names, or (names only) anywhere its provider was read.
expected_live(item) if {
	count(item._drift.strong) > 0
	index.scopes[item._drift.scope]
}

expected_live(item) if {
	count(item._drift.strong) == 0
	count(item._drift.weak) > 0
	index.providers[item.provider]
}

declared_at(item) := concat(":", [item.declaredIn.file, format_int(item.declaredIn.line, 10)]) if {
	is_object(item.declaredIn)
} else := item.address

declared_id(item) := trim_prefix(identities(item)[0], concat("", [item.provider, "|"]))

# KD-DRF-001: declared, but no live key matches it, or the one that does is being deleted.
findings contains lib.rule_finding("KD-DRF-001", item, {
	"declaredAt": declared_at(item),
	"declaredId": declared_id(item),
	"address": item.address,
	"liveState": live_state(item),
	"liveUid": live_uid(item),
}) if {
	some item in input.items
	declared_key(item)
	expected_live(item)
	count(usable_matches(item)) == 0
}

live_state(item) := live_matches(item)[0].state if count(live_matches(item)) > 0
else := "missing"

live_uid(item) := live_matches(item)[0].uid if count(live_matches(item)) > 0
else := null

# KD-DRF-002: a live customer key in a scope the config says is fully managed as code, which no
# declaration matches by any identity. Only when every declaring source was read completely: a
# file that failed to parse would otherwise make its keys look undeclared.
findings contains lib.rule_finding("KD-DRF-002", item, {
	"sourceId": item.sourceId,
	"createdAt": item.createdAt,
	"identities": all_identities(item),
}) if {
	index.active == true
	index.declaredComplete == true
	some item in input.items
	not item.declared
	lib.live_key(item)
	is_object(item._drift)
	index.managed[item.uid]
	not declared_anywhere(item)
}

all_identities(item) := array.concat(item._drift.strong, item._drift.weak)

declared_anywhere(item) if {
	some identity in all_identities(item)
	index.declared[identity]
}

# KD-DRF-003: the one live key matching a declaration has a setting the code sets to another
# value. One finding per key, every differing setting in the evidence, the first named in the
# message (and its attribute's line is where the result points).
findings contains lib.rule_finding("KD-DRF-003", item, {
	"setting": differences[0].setting,
	"liveValue": differences[0].liveValue,
	"declaredValue": differences[0].declaredValue,
	"declaredAt": declared_at(item),
	"liveUid": live.uid,
	"differences": differences,
}) if {
	some item in input.items
	declared_key(item)
	matches := usable_matches(item)
	count(matches) == 1
	live := matches[0]
	differences := sort_by_setting(setting_differences(item, live))
	count(differences) > 0
}

compared_settings := {
	"state", "algorithm", "keySize", "purpose", "protection",
	"rotation.automatic", "rotation.periodDays",
	"attributes.exportable", "attributes.plaintextBackup",
}

# Only what the code sets (it has a line for it), and only where both sides know the value.
setting_differences(item, live) := {difference |
	some path, _ in item.declaredIn.attributes
	path in compared_settings
	declared := object.get(item, split(path, "."), null)
	declared != null
	observed := object.get(live.settings, path, null)
	observed != null
	declared != observed
	difference := {"setting": path, "liveValue": observed, "declaredValue": declared}
} | tag_differences(item, live)

tag_differences(item, live) := {difference |
	item.declaredIn.attributes.tags
	some name, declared in object.get(item, "tags", {})
	observed := object.get(object.get(live.settings, "tags", {}), name, "(absent)")
	declared != observed
	difference := {"setting": concat(".", ["tags", name]), "liveValue": observed, "declaredValue": declared}
}

sort_by_setting(differences) := [difference |
	some setting in sort({d.setting | some d in differences})
	some difference in differences
	difference.setting == setting
]
