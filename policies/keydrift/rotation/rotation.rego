# METADATA
# title: Rotation rules (KD-ROT-001..004)
# description: |
#   Cadence of active customer keys. "Rotation enabled" is not a cadence: the period, the next
#   rotation time and the age of the current material are each judged. Unknown (null) is never
#   read as "off".
package keydrift.rotation

import data.keydrift.lib

# KD-ROT-001: rotation is supported but switched off. Imported and external material cannot be
# rotated by the provider, whatever a collector says.
findings contains lib.rule_finding("KD-ROT-001", item, {
	"rotationSupported": true,
	"rotationAutomatic": false,
	"origin": item.origin,
}) if {
	some item in input.items
	lib.active_key(item)
	item.rotation.supported == true
	item.rotation.automatic == false
	not item.origin in {"imported", "external"}
}

# KD-ROT-002: automatic rotation, but less often than the cryptoperiod allows.
findings contains lib.rule_finding("KD-ROT-002", item, {
	"periodDays": item.rotation.periodDays,
	"maxDays": lib.max_rotation_days(item),
	"tier": item.tier,
}) if {
	some item in input.items
	lib.active_key(item)
	item.rotation.automatic == true
	is_number(item.rotation.periodDays)
	item.rotation.periodDays > lib.max_rotation_days(item)
}

# KD-ROT-003: the current material is older than the cryptoperiod plus grace, whatever the key type.
findings contains lib.rule_finding("KD-ROT-003", item, {
	"materialDate": material.date,
	"materialSource": material.source,
	"ageDays": lib.whole_days(input.now_s - material.seconds),
	"maxDays": lib.max_rotation_days(item),
	"graceDays": lib.settings(item).rotation.graceDays,
}) if {
	some item in input.items
	lib.active_key(item)
	material := current_material(item)
	lib.older_than_days(material.seconds, lib.max_rotation_days(item) + lib.settings(item).rotation.graceDays)
}

current_material(item) := {"date": item.rotation.lastRotatedAt, "seconds": item._t.lastRotatedAt, "source": "lastRotatedAt"} if {
	lib.known(item._t.lastRotatedAt)
} else := {"date": version.createdAt, "seconds": latest, "source": "primaryVersion"} if {
	latest := max({v._t.createdAt | some v in item.versions; v.primary == true; lib.known(v._t.createdAt)})
	version := [v | some v in item.versions; v.primary == true; v._t.createdAt == latest][0]
} else := {"date": item.createdAt, "seconds": item._t.createdAt, "source": "createdAt"} if {
	lib.known(item._t.createdAt)
}

# KD-ROT-004: automatic rotation is overdue by more than the grace period (stalled or failing).
findings contains lib.rule_finding("KD-ROT-004", item, {
	"nextRotationAt": item.rotation.nextRotationAt,
	"overdueDays": lib.whole_days(input.now_s - item._t.nextRotationAt),
	"graceDays": lib.settings(item).rotation.graceDays,
}) if {
	some item in input.items
	lib.active_key(item)
	item.rotation.automatic == true
	lib.known(item._t.nextRotationAt)
	lib.older_than_days(item._t.nextRotationAt, lib.settings(item).rotation.graceDays)
}
