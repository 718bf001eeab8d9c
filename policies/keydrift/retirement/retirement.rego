# METADATA
# title: Retirement rules (KD-RET-001..007)
# description: Keys left disabled, scheduled deletions (under a legal hold or not), old versions that still decrypt, key-material expiry, and keys unusable after it.
package keydrift.retirement

import data.keydrift.lib

# KD-RET-001: disabled for longer than retirement.disabledMaxDays and nobody scheduled its deletion.
# stateSince may be an upper bound (the key was disabled at or before it: a baseline's first
# sighting); the rule then fires late, never early.
findings contains lib.rule_finding("KD-RET-001", item, {
	"disabledSince": item.stateSince,
	"disabledDays": lib.whole_days(input.now_s - item._t.stateSince),
	"maxDays": lib.settings(item).retirement.disabledMaxDays,
	"disabledSinceSource": object.get(item, ["evidence", "stateSinceSource"], null),
}) if {
	some item in input.items
	lib.customer_key(item)
	item.state == "disabled"
	lib.known(item._t.stateSince)
	lib.older_than_days(item._t.stateSince, lib.settings(item).retirement.disabledMaxDays)
	not deletion_scheduled(item)
}

deletion_scheduled(item) if lib.known(item._t.deletionScheduledFor)

deletion_scheduled(item) if item.state == "pending-deletion"

# KD-RET-002: deletion scheduled while the legal-hold tag is set.
findings contains lib.rule_finding("KD-RET-002", item, {
	"legalHoldTag": tag,
	"legalHoldValue": item.tags[tag],
	"scheduledFor": object.get(item, ["deletion", "scheduledFor"], null),
}) if {
	some item in input.items
	lib.customer_key(item)
	deletion_scheduled(item)
	tag := lib.settings(item).retirement.legalHoldTag
	legal_hold(item, tag)
}

# Tag values that say "no hold" (compared trimmed and lower-cased). Any other value, one keydrift
# does not recognise included, is a hold: a missed hold destroys data, a false one costs a look.
no_hold_values := {"", "false", "no", "0", "off", "none", "released"}

legal_hold(item, tag) if not lower(trim_space(item.tags[tag])) in no_hold_values

# KD-RET-006: deletion scheduled with no legal hold (held keys are KD-RET-002's). Level
# "referenced" (high) while an alias or grant still points at the key, else the default (low).
findings contains lib.rule_finding_at("KD-RET-006", item, reference_level(refs), {
	"scheduledFor": object.get(item, ["deletion", "scheduledFor"], null),
	"daysLeft": days_left(item),
	"aliases": refs.aliases,
	"grants": refs.grants,
	"referenced": reference_level(refs) == "referenced",
}) if {
	some item in input.items
	lib.customer_key(item)
	deletion_scheduled(item)
	not legal_hold(item, lib.settings(item).retirement.legalHoldTag)
	refs := references(item)
}

# What still points at the key, as far as the inventory knows: AWS aliases (evidence.aliases) and
# grants (evidence.grantCount; null when the collector says grantsCollected: false).
references(item) := {
	"aliases": count(object.get(item, ["evidence", "aliases"], [])),
	"grants": grant_count(item),
}

grant_count(item) := item.evidence.grantCount if {
	is_number(item.evidence.grantCount)
} else := null if {
	item.evidence.grantsCollected == false
} else := 0

referenced(refs) if refs.aliases > 0

referenced(refs) if {
	is_number(refs.grants)
	refs.grants > 0
}

reference_level(refs) := "referenced" if {
	referenced(refs)
} else := "default"

days_left(item) := lib.whole_days(item._t.deletionScheduledFor - input.now_s) if {
	lib.known(item._t.deletionScheduledFor)
} else := null

# KD-RET-003: a superseded version can still decrypt long after it was replaced. One finding per
# key, naming the version superseded longest ago.
findings contains lib.rule_finding("KD-RET-003", item, {
	"versionId": oldest.id,
	"supersededAt": oldest.supersededAt,
	"daysSinceSuperseded": lib.whole_days(input.now_s - oldest.seconds),
	"maxDays": lib.settings(item).retirement.oldVersionMaxDays,
	"decryptableVersions": [v.id | some v in old_versions(item)],
}) if {
	some item in input.items
	lib.active_key(item)
	versions := old_versions(item)
	count(versions) > 0
	earliest := min({v.seconds | some v in versions})
	oldest := [v | some v in versions; v.seconds == earliest][0]
}

old_versions(item) := [v |
	some version in item.versions
	version.primary == false
	version.decryptable == true
	version.state != "destroyed"
	superseded := superseded_at(item, version)
	lib.older_than_days(superseded.seconds, lib.settings(item).retirement.oldVersionMaxDays)
	v := {"id": version.id, "seconds": superseded.seconds, "supersededAt": superseded.at}
]

superseded_at(item, version) := {"seconds": version._t.supersededAt, "at": version.supersededAt} if {
	lib.known(version._t.supersededAt)
} else := {"seconds": next, "at": newer.createdAt} if {
	lib.known(version._t.createdAt)
	next := min({v._t.createdAt | some v in item.versions; lib.known(v._t.createdAt); v._t.createdAt > version._t.createdAt})
	newer := [v | some v in item.versions; v._t.createdAt == next][0]
}

# KD-RET-004: key material expires within expiry.warnDays (the default severity) or
# expiry.failDays (level "fail" of its severityLevels).
findings contains lib.rule_finding_at("KD-RET-004", item, expiry_level(item), {
	"expiresAt": item.expiresAt,
	"daysLeft": lib.whole_days(item._t.expiresAt - input.now_s),
	"warnDays": lib.settings(item).expiry.warnDays,
	"failDays": lib.settings(item).expiry.failDays,
}) if {
	some item in input.items
	lib.active_key(item)
	lib.known(item._t.expiresAt)
	item._t.expiresAt >= input.now_s
	item._t.expiresAt - input.now_s <= lib.settings(item).expiry.warnDays * lib.day_s
}

expiry_level(item) := "fail" if {
	item._t.expiresAt - input.now_s <= lib.settings(item).expiry.failDays * lib.day_s
} else := "default"

# KD-RET-005: the material has expired but the key is still enabled.
findings contains lib.rule_finding("KD-RET-005", item, {
	"expiresAt": item.expiresAt,
	"daysExpired": lib.whole_days(input.now_s - item._t.expiresAt),
	"state": item.state,
}) if {
	some item in input.items
	lib.active_key(item)
	lib.known(item._t.expiresAt)
	input.now_s > item._t.expiresAt
}

# KD-RET-007: the key is unusable because its (imported) material expired: AWS KMS deletes
# expired material and moves the key to PendingImport.
findings contains lib.rule_finding("KD-RET-007", item, {
	"expiresAt": item.expiresAt,
	"daysExpired": lib.whole_days(input.now_s - item._t.expiresAt),
	"state": item.state,
	"providerState": object.get(item, ["evidence", "KeyState"], null),
	"expiresAtSource": object.get(item, ["evidence", "expiresAtSource"], "provider"),
}) if {
	some item in input.items
	lib.customer_key(item)
	item.state == "unavailable"
	lib.known(item._t.expiresAt)
	input.now_s > item._t.expiresAt
}
