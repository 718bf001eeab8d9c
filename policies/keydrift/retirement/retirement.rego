# METADATA
# title: Retirement rules (KD-RET-001..005)
# description: Keys left disabled, deletions that would break a legal hold, old versions that still decrypt, and key-material expiry.
package keydrift.retirement

import data.keydrift.lib

# KD-RET-001: disabled for longer than retirement.disabledMaxDays and nobody scheduled its deletion.
findings contains lib.rule_finding("KD-RET-001", item, {
	"disabledSince": item.stateSince,
	"disabledDays": lib.whole_days(input.now_s - item._t.stateSince),
	"maxDays": lib.settings(item).retirement.disabledMaxDays,
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
	value := item.tags[tag]
	not lower(value) in {"", "false", "no", "0"}
}

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
